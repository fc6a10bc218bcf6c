import type { SendOptions } from "./channel.js";
import type { IpcError } from "./errors.js";
import { checkWaitOptions } from "./wait.js";
import { WaiterQueue } from "./waiter-queue.js";

type Action = () => void | Promise<void>;

/**
 * Admits sends one at a time, in call order, each only when the transport has room: the send half of
 * backpressure every channel shares. Guarantees: actions run in admission order; an aborted or timed-out
 * waiter never runs its action; a failed gate rejects every waiter with its error.
 */
export class SendGate {
  readonly #hasRoom: () => boolean;
  // A withdrawn head may have been blocking others that now fit.
  readonly #waiting = new WaiterQueue<void | Promise<void>, Action>(() =>
    queueMicrotask(() => this.notify()),
  );
  readonly #idleWaiters = new WaiterQueue<void>();
  #failure: IpcError | undefined;

  constructor(hasRoom: () => boolean) {
    this.#hasRoom = hasRoom;
  }

  /** Told when a send starts waiting for room (true) and when none waits any more (false). */
  set onWaiting(listener: ((waiting: boolean) => void) | undefined) {
    this.#waiting.onBusy = listener;
  }

  /** Number of sends waiting for room. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** True when a send may go now without waiting: the gate has not failed, nothing waits, and there is room. */
  get open(): boolean {
    return this.#failure === undefined && this.#waiting.length === 0 && this.#hasRoom();
  }

  /** Runs `action` once it is this caller's turn and there is room; resolves with the action's completion. */
  async admit(action: Action, options: SendOptions | undefined): Promise<void> {
    if (this.#failure) throw this.#failure;
    checkWaitOptions(options, "send");
    if (this.#waiting.length === 0 && this.#hasRoom()) return action();
    return await this.#waiting.wait("send", options, action);
  }

  /** The transport may have room again: admits waiters, in order, while it does. */
  notify(): void {
    while (this.#waiting.length > 0 && this.#failure === undefined && this.#hasRoom()) {
      const { data: action, settlers } = this.#waiting.shift()!;
      try {
        settlers.resolve(action());
      } catch (error) {
        settlers.reject(error);
      }
    }
    if (this.#waiting.length === 0) this.#idleWaiters.resolveAll();
  }

  /** Resolves once no send is waiting, or rejects with `ERR_IPC_TIMEOUT` / `ERR_IPC_ABORTED`. */
  idle(options: SendOptions | undefined): Promise<void> {
    if (this.#waiting.length === 0) return Promise.resolve();
    return this.#idleWaiters.wait("waiting for earlier sends", options, undefined);
  }

  /** Rejects every waiting and later send with `error`. */
  fail(error: IpcError): void {
    if (this.#failure) return;
    this.#failure = error;
    this.#waiting.rejectAll(error);
    this.#idleWaiters.resolveAll();
  }
}
