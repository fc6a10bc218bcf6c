import type { ReceiveOptions } from "./channel.js";
import { type Codec, decodeWith } from "./codec.js";
import { IpcError, IpcErrorCode } from "./errors.js";
import { cancellableWait, checkWaitOptions, type WaitSettlers } from "./wait.js";

/** Bytes a channel buffers for its reader before it stops reading from the peer: 1 MiB. */
export const DEFAULT_RECEIVE_HIGH_WATER_MARK_BYTES = 1024 * 1024;

type Taken<T> = IteratorResult<T, undefined>;

/**
 * The receive half every channel shares: buffers frame payloads in arrival order, decodes each when it is
 * taken, and serves `receive()` and async iteration with abort and timeout. Guarantees: each payload is
 * handed to exactly one taker, in order; a cancelled take consumes nothing; buffered payloads are still
 * delivered after the peer ends, then takers see the end.
 */
export class Inbox<T> {
  readonly #codec: Codec<T>;
  readonly #highWaterMark: number;
  readonly #frames: Uint8Array[] = [];
  #head = 0;
  #bufferedBytes = 0;
  readonly #takers: WaitSettlers<Taken<T>>[] = [];
  /** Set once no more frames will arrive: `null` for a clean end, else the error to report after the buffer. */
  #end: IpcError | null | undefined;
  #closedLocally = false;
  /** Called when a take brings the buffer back under the high-water mark. */
  onSpace: (() => void) | undefined;

  constructor(codec: Codec<T>, highWaterMark = DEFAULT_RECEIVE_HIGH_WATER_MARK_BYTES) {
    this.#codec = codec;
    this.#highWaterMark = highWaterMark;
  }

  /** True while the buffered payloads reach the high-water mark: the producer should stop reading. */
  get full(): boolean {
    return this.#bufferedBytes >= this.#highWaterMark;
  }

  /** Bytes of payload waiting to be received. */
  get bufferedBytes(): number {
    return this.#bufferedBytes;
  }

  /** Adds one frame payload; ignored after a local close. */
  push(payload: Uint8Array): void {
    if (this.#closedLocally || this.#end !== undefined) return;
    const taker = this.#takers.shift();
    if (taker !== undefined) {
      this.#deliver(payload, taker);
      return;
    }
    this.#frames.push(payload);
    this.#bufferedBytes += payload.byteLength;
  }

  /** No more frames will arrive: `error` is reported after the buffer drains (undefined for a clean end). */
  end(error?: IpcError): void {
    if (this.#end !== undefined || this.#closedLocally) return;
    this.#end = error ?? null;
    if (this.#frames.length - this.#head === 0) this.#settleTakersAtEnd();
  }

  /** Closes from this side: drops the buffer; pending and later takes see the end. */
  close(): void {
    if (this.#closedLocally) return;
    this.#closedLocally = true;
    this.#frames.length = 0;
    this.#head = 0;
    this.#bufferedBytes = 0;
    this.#settleTakersAtEnd();
  }

  /** Next message, or `done` when the channel ended cleanly or was closed locally. */
  take(options: ReceiveOptions | undefined): Promise<Taken<T>> {
    try {
      checkWaitOptions(options, "receive");
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#head < this.#frames.length) {
      try {
        return Promise.resolve({ done: false, value: this.#decode(this.#shift()) });
      } catch (error) {
        return Promise.reject(error);
      }
    }
    const ended = this.#endResult();
    if (ended !== undefined) return ended;
    return cancellableWait<Taken<T>>("receive", options, (settlers) => {
      this.#takers.push(settlers);
      return () => {
        const index = this.#takers.indexOf(settlers);
        if (index >= 0) this.#takers.splice(index, 1);
      };
    });
  }

  /** Next message. @throws `ERR_IPC_CLOSED` at the end, and whatever ended the channel otherwise */
  async receive(options: ReceiveOptions | undefined): Promise<T> {
    const result = await this.take(options);
    if (result.done) throw this.#closedError();
    return result.value;
  }

  #shift(): Uint8Array {
    const payload = this.#frames[this.#head]!;
    this.#frames[this.#head] = EMPTY;
    this.#head += 1;
    if (this.#head > 1024 && this.#head * 2 > this.#frames.length) {
      this.#frames.splice(0, this.#head);
      this.#head = 0;
    }
    const wasFull = this.full;
    this.#bufferedBytes -= payload.byteLength;
    if (wasFull && !this.full) this.onSpace?.();
    return payload;
  }

  #deliver(payload: Uint8Array, taker: WaitSettlers<Taken<T>>): void {
    try {
      taker.resolve({ done: false, value: this.#decode(payload) });
    } catch (error) {
      taker.reject(error);
    }
  }

  #decode(payload: Uint8Array): T {
    return decodeWith(this.#codec, payload);
  }

  #endResult(): Promise<Taken<T>> | undefined {
    if (this.#closedLocally || this.#end === null) return Promise.resolve({ done: true, value: undefined });
    if (this.#end !== undefined) return Promise.reject(this.#end);
    return undefined;
  }

  #settleTakersAtEnd(): void {
    for (const taker of this.#takers.splice(0)) {
      if (this.#closedLocally || this.#end === null) taker.resolve({ done: true, value: undefined });
      else taker.reject(this.#end);
    }
  }

  #closedError(): IpcError {
    return this.#closedLocally
      ? new IpcError(IpcErrorCode.CLOSED, "receive on a channel that was closed locally")
      : new IpcError(
          IpcErrorCode.CLOSED,
          "the peer closed the channel and every message it sent has been received",
        );
  }
}

const EMPTY = new Uint8Array(0);
