import type { ReceiveOptions } from "./channel.js";
import { type Codec, decodeWith } from "./codec.js";
import { IpcError, IpcErrorCode } from "./errors.js";
import { checkWaitOptions, type WaitSettlers } from "./wait.js";
import { WaiterQueue } from "./waiter-queue.js";

/** Bytes a channel buffers for its reader before it stops reading from the peer: 1 MiB. */
export const DEFAULT_RECEIVE_HIGH_WATER_MARK_BYTES = 1024 * 1024;
/**
 * What one buffered message costs beyond its payload, in bytes (its array, view and queue slot), so that
 * a flood of empty messages fills the buffer as surely as large ones do.
 */
export const MESSAGE_OVERHEAD_BYTES = 64;

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
  /** Waiting takes; `true` for the value form (`receive`), `false` for the iterator form. */
  readonly #takers = new WaiterQueue<Taken<T> | T, boolean>();
  /** Set once no more frames will arrive: `null` for a clean end, else the error to report after the buffer. */
  #end: IpcError | null | undefined;
  #closedLocally = false;
  /** Called when a take brings the buffer back under the high-water mark. */
  onSpace: (() => void) | undefined;
  /** Called after every take that removed a buffered message (for accounting across channels). */
  onTake: (() => void) | undefined;

  constructor(codec: Codec<T>, highWaterMark = DEFAULT_RECEIVE_HIGH_WATER_MARK_BYTES) {
    this.#codec = codec;
    this.#highWaterMark = highWaterMark;
  }

  /** True while the buffered messages reach the high-water mark: the producer should stop reading. */
  get full(): boolean {
    return this.#bufferedBytes >= this.#highWaterMark;
  }

  /** True when a receive or iteration step is waiting for the next message. */
  get hasTakers(): boolean {
    return this.#takers.length > 0;
  }

  /** Told when a receive or iteration starts waiting (true) and when none waits any more (false). */
  set onWaiting(listener: ((waiting: boolean) => void) | undefined) {
    this.#takers.onBusy = listener;
  }

  /** Frames waiting to be received. */
  get bufferedFrames(): number {
    return this.#frames.length - this.#head;
  }

  /** Bytes waiting to be received, each message counted with {@link MESSAGE_OVERHEAD_BYTES}. */
  get bufferedBytes(): number {
    return this.#bufferedBytes;
  }

  /** Adds one frame payload; ignored after a local close. */
  push(payload: Uint8Array): void {
    if (this.#closedLocally || this.#end !== undefined) return;
    const taker = this.#takers.shift();
    if (taker !== undefined) {
      this.#deliver(payload, taker.data, taker.settlers);
      return;
    }
    this.#frames.push(payload);
    this.#bufferedBytes += payload.byteLength + MESSAGE_OVERHEAD_BYTES;
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
    return this.#take(options, false) as Promise<Taken<T>>;
  }

  /** Next message. @throws `ERR_IPC_CLOSED` at the end, and whatever ended the channel otherwise */
  receive(options: ReceiveOptions | undefined): Promise<T> {
    return this.#take(options, true) as Promise<T>;
  }

  // One path for both forms, so that receive() costs no extra promise over take().
  #take(options: ReceiveOptions | undefined, asValue: boolean): Promise<Taken<T> | T> {
    try {
      checkWaitOptions(options, "receive");
      if (this.#head < this.#frames.length) {
        const value = this.#decode(this.#shift());
        return Promise.resolve(asValue ? value : { done: false, value });
      }
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#closedLocally || this.#end !== undefined) return this.#ended(asValue);
    return this.#takers.wait("receive", options, asValue);
  }

  /**
   * The next message if one is buffered, else undefined, never waiting. Once nothing more will come and
   * the buffer is empty, throws what `receive` would reject with.
   */
  tryReceive(): T | undefined {
    if (this.#head < this.#frames.length) return this.#decode(this.#shift());
    if (this.#closedLocally || this.#end === null) throw this.#closedError();
    if (this.#end !== undefined) throw this.#end;
    return undefined;
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
    this.#bufferedBytes -= payload.byteLength + MESSAGE_OVERHEAD_BYTES;
    if (wasFull && !this.full) this.onSpace?.();
    this.onTake?.();
    return payload;
  }

  #deliver(payload: Uint8Array, asValue: boolean, settlers: WaitSettlers<Taken<T> | T>): void {
    try {
      const value = this.#decode(payload);
      settlers.resolve(asValue ? value : { done: false, value });
    } catch (error) {
      settlers.reject(error);
    }
  }

  #decode(payload: Uint8Array): T {
    return decodeWith(this.#codec, payload);
  }

  /** What a take gets once nothing more will come: the end (`done`, or ERR_IPC_CLOSED for receive) or the error. */
  #ended(asValue: boolean): Promise<Taken<T> | T> {
    if (this.#closedLocally || this.#end === null) {
      return asValue
        ? Promise.reject(this.#closedError())
        : Promise.resolve({ done: true, value: undefined });
    }
    return Promise.reject(this.#end);
  }

  #settleTakersAtEnd(): void {
    for (let taker = this.#takers.shift(); taker !== undefined; taker = this.#takers.shift()) {
      this.#ended(taker.data).then(taker.settlers.resolve, taker.settlers.reject);
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
