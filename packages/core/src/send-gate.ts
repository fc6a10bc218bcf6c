import type { SendOptions } from "./channel.js";
import type { IpcError } from "./errors.js";
import { cancellableWait, checkWaitOptions, type WaitSettlers } from "./wait.js";

interface Waiting {
  readonly action: () => void | Promise<void>;
  readonly settlers: WaitSettlers<void | Promise<void>>;
}

/**
 * Admits sends one at a time, in call order, each only when the transport has room: the send half of
 * backpressure every channel shares. Guarantees: actions run in admission order; an aborted or timed-out
 * waiter never runs its action; a failed gate rejects every waiter with its error.
 */
export class SendGate {
  readonly #hasRoom: () => boolean;
  readonly #waiting: Waiting[] = [];
  readonly #idleWaiters: WaitSettlers<void>[] = [];
  #failure: IpcError | undefined;

  constructor(hasRoom: () => boolean) {
    this.#hasRoom = hasRoom;
  }

  /** Number of sends waiting for room. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Runs `action` once it is this caller's turn and there is room; resolves with the action's completion. */
  async admit(action: () => void | Promise<void>, options: SendOptions | undefined): Promise<void> {
    if (this.#failure) throw this.#failure;
    checkWaitOptions(options, "send");
    if (this.#waiting.length === 0 && this.#hasRoom()) return action();
    const completion = await cancellableWait<void | Promise<void>>("send", options, (settlers) => {
      const entry: Waiting = { action, settlers };
      this.#waiting.push(entry);
      return () => {
        const index = this.#waiting.indexOf(entry);
        if (index >= 0) this.#waiting.splice(index, 1);
        // The head may have been blocking others that now fit.
        queueMicrotask(() => this.notify());
      };
    });
    return completion;
  }

  /** The transport may have room again: admits waiters, in order, while it does. */
  notify(): void {
    while (this.#waiting.length > 0 && this.#failure === undefined && this.#hasRoom()) {
      const { action, settlers } = this.#waiting.shift()!;
      try {
        settlers.resolve(action());
      } catch (error) {
        settlers.reject(error);
      }
    }
    this.#settleIdle();
  }

  /** Resolves once no send is waiting, or rejects with `ERR_IPC_TIMEOUT` after `timeoutMs`. */
  idle(timeoutMs: number): Promise<void> {
    if (this.#waiting.length === 0) return Promise.resolve();
    return cancellableWait<void>("flushing waiting sends", { timeout: timeoutMs }, (settlers) => {
      this.#idleWaiters.push(settlers);
      return () => {
        const index = this.#idleWaiters.indexOf(settlers);
        if (index >= 0) this.#idleWaiters.splice(index, 1);
      };
    });
  }

  #settleIdle(): void {
    if (this.#waiting.length > 0) return;
    for (const waiter of this.#idleWaiters.splice(0)) waiter.resolve();
  }

  /** Rejects every waiting and later send with `error`. */
  fail(error: IpcError): void {
    if (this.#failure) return;
    this.#failure = error;
    for (const { settlers } of this.#waiting.splice(0)) settlers.reject(error);
    this.#settleIdle();
  }
}
