import {
  type CloseOptions,
  type IpcError,
  IpcErrorCode,
  isIpcError,
  type ReceiveOptions,
  type Receiver,
} from "@ipc/core";
import { ClosableEnd, checkWaitOptions, Deadline, receiveIterator } from "@ipc/core/transport";

/**
 * A receiver that outlives its writers: when the last writer closes (EOF), it opens the FIFO again and
 * keeps receiving from the next ones. A writer that dies in the middle of a message is reported through
 * `onWriterGone` (that message is lost) and does not end the receiver; only `close()` (or a protocol
 * error) ends it.
 */
export class PersistentFifoReceiver<T> extends ClosableEnd implements Receiver<T> {
  readonly #open: () => Receiver<T>;
  readonly #onWriterGone: ((error: IpcError) => void) | undefined;
  readonly #release: () => void;
  #current: Receiver<T>;

  /** `open` opens the FIFO afresh; `release` runs once the receiver has closed (it frees the descriptor that keeps the FIFO open). */
  constructor(
    open: () => Receiver<T>,
    onWriterGone: ((error: IpcError) => void) | undefined,
    release: () => void,
  ) {
    super();
    this.#open = open;
    this.#onWriterGone = onWriterGone;
    this.#release = release;
    this.#current = open();
  }

  async receive(options?: ReceiveOptions): Promise<T> {
    checkWaitOptions(options, "receive");
    const deadline = new Deadline(options?.timeout);
    for (;;) {
      if (this.closedLocally) throw this.closedError("receive");
      const current = this.#current;
      try {
        return await current.receive(deadline.options(options?.signal));
      } catch (error) {
        if (this.closedLocally || current.state !== "closed") throw error;
        if (isIpcError(error, IpcErrorCode.PEER_GONE)) this.#onWriterGone?.(error);
        else if (!isIpcError(error, IpcErrorCode.CLOSED)) {
          this.ended({ initiator: "error", error: error as IpcError });
          throw error;
        }
        // Every writer has gone: listen for the next ones on a fresh descriptor.
        if (this.#current === current) this.#current = this.#open();
      }
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return receiveIterator(() => this.receive());
  }

  protected async closeEnd(options: CloseOptions): Promise<void> {
    try {
      await this.#current.close(options);
    } finally {
      this.#release();
    }
  }
}
