import { type ChannelState, type CloseInfo, type CloseOptions, IpcError, IpcErrorCode, isIpcError, type ReceiveOptions, type Receiver } from "@ipc/core";
import { checkWaitOptions, receiveIterator } from "@ipc/core/transport";

/**
 * A reader that outlives its writers: when the last writer closes (EOF), it opens the FIFO again and
 * keeps receiving from the next ones. A writer that dies in the middle of a message is reported through
 * `onWriterGone` (that message is lost) and does not end the reader.
 */
export class ServingFifoReader<T> implements Receiver<T> {
  readonly #open: () => Receiver<T>;
  readonly #onWriterGone: ((error: IpcError) => void) | undefined;
  #current: Receiver<T>;
  #state: ChannelState = "open";
  #closing: Promise<void> | undefined;
  #settleClosed!: (info: CloseInfo) => void;
  readonly closed: Promise<CloseInfo>;

  readonly #release: () => void;

  /** `release` runs once the reader has closed (it frees the descriptor that keeps the FIFO open). */
  constructor(
    open: () => Receiver<T>,
    onWriterGone: ((error: IpcError) => void) | undefined,
    release: () => void,
  ) {
    this.#open = open;
    this.#onWriterGone = onWriterGone;
    this.#release = release;
    this.#current = open();
    this.closed = new Promise((resolve) => {
      this.#settleClosed = resolve;
    });
  }

  get state(): ChannelState {
    return this.#state;
  }

  async receive(options?: ReceiveOptions): Promise<T> {
    checkWaitOptions(options, "receive");
    const deadline = options?.timeout === undefined ? undefined : Date.now() + options.timeout;
    for (;;) {
      if (this.#state !== "open")
        throw new IpcError(IpcErrorCode.CLOSED, "receive on a FIFO reader that was closed");
      const current = this.#current;
      const timeout = deadline === undefined ? undefined : Math.max(0, deadline - Date.now());
      try {
        return await current.receive({ signal: options?.signal, timeout });
      } catch (error) {
        if (this.#state !== "open" || current.state !== "closed") throw error;
        if (isIpcError(error, IpcErrorCode.PEER_GONE)) this.#onWriterGone?.(error);
        else if (!isIpcError(error, IpcErrorCode.CLOSED)) throw error;
        // Every writer has gone: listen for the next ones on a fresh descriptor.
        if (this.#current === current) this.#current = this.#open();
      }
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return receiveIterator(() => this.receive());
  }

  close(options?: CloseOptions): Promise<void> {
    this.#closing ??= (async () => {
      this.#state = "closing";
      await this.#current.close(options);
      this.#release();
      this.#state = "closed";
      this.#settleClosed({ initiator: "local" });
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
