import type { ChannelEnd, ChannelState, CloseInfo, CloseOptions } from "./channel.js";
import { IpcError, IpcErrorCode } from "./errors.js";

/**
 * The close life cycle every channel-shaped object shares (channels, and wrappers around them):
 * `state` goes `"open"` → `"closing"` → `"closed"`; `close()` is idempotent and runs {@link closeEnd}
 * once; `closed` settles once and never rejects. A subclass reports an end it did not ask for with
 * {@link ended}.
 */
export abstract class ClosableEnd implements ChannelEnd {
  #state: ChannelState = "open";
  #closing: Promise<void> | undefined;
  #settleClosed!: (info: CloseInfo) => void;
  readonly #closed: Promise<CloseInfo>;

  constructor() {
    let settled = false;
    this.#closed = new Promise<CloseInfo>((resolve) => {
      this.#settleClosed = (info) => {
        if (settled) return;
        settled = true;
        resolve(Object.freeze(info));
      };
    });
  }

  get state(): ChannelState {
    return this.#state;
  }

  get closed(): Promise<CloseInfo> {
    return this.#closed;
  }

  /** True once `close()` has been called on this end (it may still be running). */
  protected get closedLocally(): boolean {
    return this.#closing !== undefined;
  }

  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= this.#runClose(options);
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #referenced = false;

  ref(): this {
    this.#referenced = true;
    this.keepAliveChanged();
    return this;
  }

  unref(): this {
    this.#referenced = false;
    this.keepAliveChanged();
    return this;
  }

  /** True when `ref()` asked for the process to stay alive while this end is open. */
  protected get referenced(): boolean {
    return this.#referenced;
  }

  /** Called when `ref()`/`unref()` change; an end that holds a handle re-decides whether it keeps the process alive. */
  protected keepAliveChanged(): void {}

  /** Releases what the end holds; called once, by the first `close()`. Runs synchronously up to its first `await`. */
  protected abstract closeEnd(options: CloseOptions): Promise<void>;

  /** For subclasses: the end is over without a local `close()` (the peer ended it, or it failed). */
  protected ended(info: CloseInfo): void {
    if (this.#state === "closed") return;
    if (this.#closing === undefined) this.#state = "closed";
    this.#settleClosed(info);
  }

  /** The `ERR_IPC_CLOSED` error for an operation (`what`) on an end closed locally. */
  protected closedError(what: string): IpcError {
    return new IpcError(IpcErrorCode.CLOSED, `${what} on a channel end that was closed locally`);
  }

  async #runClose(options: CloseOptions): Promise<void> {
    if (this.#state === "open") this.#state = "closing";
    try {
      await this.closeEnd(options);
    } finally {
      this.#state = "closed";
      this.#settleClosed({ initiator: "local" });
    }
  }
}
