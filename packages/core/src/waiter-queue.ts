import { cancellableWait, type WaitOptions, type WaitSettlers } from "./wait.js";

/** One waiter of a {@link WaiterQueue}: what it carries, and how to settle it. */
export interface Waiter<T, D> {
  readonly data: D;
  readonly settlers: WaitSettlers<T>;
}

/**
 * Callers waiting their turn, first come first served, each with an `AbortSignal` and a timeout.
 * Guarantees: a waiter that is aborted or times out leaves the queue and is never settled by it; every
 * waiter is settled at most once.
 */
export class WaiterQueue<T, D = undefined> {
  readonly #waiters: Waiter<T, D>[] = [];
  /** Called after an aborted or timed-out waiter left the queue (the next one may now be served). */
  readonly #onWithdraw: (() => void) | undefined;
  /** Told when the queue goes from empty to not (true) and back (false). */
  onBusy: ((busy: boolean) => void) | undefined;

  constructor(onWithdraw?: () => void) {
    this.#onWithdraw = onWithdraw;
  }

  /** Waiters in the queue. */
  get length(): number {
    return this.#waiters.length;
  }

  /** Joins the queue; rejects with `ERR_IPC_ABORTED` / `ERR_IPC_TIMEOUT` (`what` names the wait). */
  wait(what: string, options: WaitOptions | undefined, data: D): Promise<T> {
    return cancellableWait<T>(what, options, (settlers) => {
      const waiter: Waiter<T, D> = { data, settlers };
      this.#waiters.push(waiter);
      if (this.#waiters.length === 1) this.onBusy?.(true);
      return () => {
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) {
          this.#waiters.splice(index, 1);
          if (this.#waiters.length === 0) this.onBusy?.(false);
        }
        this.#onWithdraw?.();
      };
    });
  }

  /** The first waiter, still queued. */
  peek(): Waiter<T, D> | undefined {
    return this.#waiters[0];
  }

  /** Removes and returns the first waiter (the caller settles it). */
  shift(): Waiter<T, D> | undefined {
    const waiter = this.#waiters.shift();
    if (waiter !== undefined && this.#waiters.length === 0) this.onBusy?.(false);
    return waiter;
  }

  /** Resolves the first waiter with `value`; false when nobody waits. */
  resolveNext(value: T): boolean {
    const waiter = this.shift();
    waiter?.settlers.resolve(value);
    return waiter !== undefined;
  }

  /** Resolves every waiter with `value`. */
  resolveAll(value: T): void {
    for (const waiter of this.#takeAll()) waiter.settlers.resolve(value);
  }

  /** Rejects every waiter with `error`. */
  rejectAll(error: unknown): void {
    for (const waiter of this.#takeAll()) waiter.settlers.reject(error);
  }

  #takeAll(): Waiter<T, D>[] {
    const all = this.#waiters.splice(0);
    if (all.length > 0) this.onBusy?.(false);
    return all;
  }
}
