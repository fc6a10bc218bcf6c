import type {
  Channel,
  ChannelDirection,
  ChannelOptions,
  CloseOptions,
  FlushOptions,
  ReceiveOptions,
  SendOptions,
} from "./channel.js";
import { ClosableEnd } from "./closable-end.js";
import { type Codec, checkCodec, encodeWith } from "./codec.js";
import { json } from "./codecs/json.js";
import { IpcError, IpcErrorCode } from "./errors.js";
import { checkFrameSize, DEFAULT_MAX_FRAME_SIZE_BYTES, validateMaxFrameSize } from "./framing.js";
import { DEFAULT_RECEIVE_HIGH_WATER_MARK_BYTES, Inbox } from "./inbox.js";
import { SendGate } from "./send-gate.js";
import { Deadline } from "./timing.js";
import { checkWaitOptions, waitLimits } from "./wait.js";

/** What a send that went out at once returns (one settled promise for all of them). */
const SENT: Promise<void> = Promise.resolve();

/** Milliseconds `close()` waits for already-sent messages to flush before the channel is cut. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;

const DIRECTIONS: readonly ChannelDirection[] = ["duplex", "send", "receive"];

/** Options of {@link BaseChannel}, shared by every channel built on it. */
export interface BaseChannelOptions<T> extends ChannelOptions<T> {
  /** `"send"` or `"receive"` make a one-way end; the other operation rejects with `ERR_IPC_UNSUPPORTED`. @default "duplex" */
  direction?: ChannelDirection | undefined;
}

/**
 * The machinery every message channel shares: encoding, size limits, ordered sends with backpressure,
 * receive and iteration with abort and timeout, flushing, and the close life cycle. A transport extends
 * it and supplies only how frames are written, when there is room, and how it shuts down.
 */
export abstract class BaseChannel<T> extends ClosableEnd implements Channel<T> {
  protected readonly inbox: Inbox<T>;
  protected readonly gate: SendGate;
  protected readonly maxFrameSize: number;
  readonly #codec: Codec<T>;
  readonly #direction: ChannelDirection;
  #sendRefusal: IpcError | undefined;

  constructor(options: BaseChannelOptions<T> = {}) {
    super();
    this.#codec = checkCodec(options.codec ?? (json as Codec<T>));
    this.#direction = options.direction ?? "duplex";
    this.maxFrameSize = validateMaxFrameSize(options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE_BYTES);
    const highWaterMark = options.receiveHighWaterMark ?? DEFAULT_RECEIVE_HIGH_WATER_MARK_BYTES;
    if (!Number.isSafeInteger(highWaterMark) || highWaterMark < 1) {
      throw new IpcError(
        IpcErrorCode.INVALID_ARGUMENT,
        `receiveHighWaterMark must be a positive integer number of bytes, got ${String(highWaterMark)}`,
      );
    }
    if (!DIRECTIONS.includes(this.#direction)) {
      throw new IpcError(
        IpcErrorCode.INVALID_ARGUMENT,
        `direction must be "duplex", "send" or "receive", got ${String(this.#direction)}`,
      );
    }
    this.inbox = new Inbox(this.#codec, highWaterMark);
    this.gate = new SendGate(() => this.hasRoom());
    this.inbox.onWaiting = (waiting) => this.#busy(waiting, 0);
    this.gate.onWaiting = (waiting) => this.#busy(waiting, 1);
  }

  /** Whether a receive/iteration (bit 0) or a send (bit 1) waits on this end now. */
  #waiting = 0;

  #busy(waiting: boolean, bit: number): void {
    const before = this.#waiting !== 0;
    this.#waiting = waiting ? this.#waiting | (1 << bit) : this.#waiting & ~(1 << bit);
    if (before !== (this.#waiting !== 0)) this.keepAliveChanged();
  }

  /** True when the process should stay alive for this end: something waits on it, or `ref()` was called. */
  protected get keepsAlive(): boolean {
    return this.#waiting !== 0 || this.referenced;
  }

  /** Throws (nothing is sent) when a payload of `length` bytes may not be sent. */
  protected checkOutgoing(length: number): void {
    checkFrameSize(length, this.maxFrameSize, "send would write");
  }

  /** True when the transport can take another frame now without exceeding its buffer. */
  protected abstract hasRoom(): boolean;
  /**
   * For `trySend`: true when a frame of `length` payload bytes can be taken now, whole, with nothing
   * scheduled as a side effect. Defaults to `hasRoom()`.
   */
  protected roomNowFor(_length: number): boolean {
    return this.hasRoom();
  }
  /** Takes one frame payload for delivery, synchronously; copies it if `codec.borrowsInput` and it keeps it. */
  protected abstract writeFrame(payload: Uint8Array): void;
  /** Resolves once every frame taken so far has left this process (see `Sender.flush`). */
  protected abstract flushFrames(): Promise<void>;
  /** Flushes and closes the transport from this side, within `timeoutMs`. Called once. */
  protected abstract shutdown(timeoutMs: number): Promise<void>;
  /**
   * Called before every receive and iteration step: a transport that can fetch frames synchronously
   * (shared memory) does so here, so a message already there is delivered without a trip through the
   * event loop. Does nothing by default.
   */
  protected pollIncoming(): void {}
  /** Fetches frames that are already there, synchronously and without waiting (for `tryReceive`). */
  protected fetchIncoming(): void {}

  get codec(): Codec<T> {
    return this.#codec;
  }

  send(message: T, options?: SendOptions): Promise<void> {
    if (this.#direction === "receive") return Promise.reject(unsupported("send", "send from the other end"));
    if (this.#sendRefusal) return Promise.reject(this.#sendRefusal);
    let payload: Uint8Array;
    try {
      payload = encodeWith(this.#codec, message);
      this.checkOutgoing(payload.byteLength);
    } catch (error) {
      return Promise.reject(error);
    }
    // The common case needs no wait set up: nothing waits before this send and the transport has room.
    if (options === undefined && this.gate.open) {
      try {
        this.writeFrame(payload);
      } catch (error) {
        return Promise.reject(error);
      }
      return SENT;
    }
    return this.gate.admit(() => this.writeFrame(payload), options);
  }

  /**
   * Sends `message` only if it can go at once (nothing queued before it, room in the transport): true,
   * with every guarantee of a resolved `send`; false, and nothing sent, otherwise. Never waits: for loops
   * that poll. @throws like `send` (`ERR_IPC_ENCODE`, `ERR_IPC_FRAME_TOO_LARGE`, `ERR_IPC_CLOSED`, ...)
   */
  trySend(message: T): boolean {
    if (this.#direction === "receive") throw unsupported("send", "send from the other end");
    if (this.#sendRefusal) throw this.#sendRefusal;
    if (this.gate.waiting > 0) return false;
    const payload = encodeWith(this.#codec, message);
    this.checkOutgoing(payload.byteLength);
    if (!this.roomNowFor(payload.byteLength)) {
      // Looking for room may have found the channel broken (a corrupt ring): say so, not "no room".
      if (this.#sendRefusal) throw this.#sendRefusal;
      return false;
    }
    this.writeFrame(payload);
    return true;
  }

  async flush(options?: FlushOptions): Promise<void> {
    if (this.#direction === "receive") throw unsupported("flush", "flush the other end");
    checkWaitOptions(options, "flush");
    if (this.#sendRefusal) throw this.#sendRefusal;
    const deadline = new Deadline(options?.timeout);
    await this.gate.idle(options);
    if (this.#sendRefusal) throw this.#sendRefusal;
    const limits = waitLimits("flush", deadline.options(options?.signal));
    try {
      await Promise.race([this.flushFrames(), limits.expired]);
    } finally {
      limits.release();
    }
  }

  receive(options?: ReceiveOptions): Promise<T> {
    if (this.#direction === "send") return Promise.reject(unsupported("receive", "receive at the other end"));
    this.pollIncoming();
    return this.inbox.receive(options);
  }

  /**
   * The next message if one has arrived whole, else `undefined` (a codec that can carry `undefined`, such
   * as v8, cannot tell the two apart). Never waits or spins: for loops that poll.
   * @throws at the end, what `receive` would reject with (`ERR_IPC_CLOSED`, `ERR_IPC_PEER_GONE`, ...)
   */
  tryReceive(): T | undefined {
    if (this.#direction === "send") throw unsupported("receive", "receive at the other end");
    if (this.inbox.bufferedFrames === 0 && this.state === "open") this.fetchIncoming();
    return this.inbox.tryReceive();
  }

  /** Breaking out of `for await` does not close the channel. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.#direction === "send") return this.receive() as never;
        this.pollIncoming();
        return this.inbox.take(undefined);
      },
      return: async () => ({ done: true, value: undefined }),
    };
  }

  protected async closeEnd(options: CloseOptions): Promise<void> {
    const timeout = options.timeout ?? DEFAULT_CLOSE_TIMEOUT_MS;
    this.#sendRefusal ??= this.closedError("send");
    this.inbox.close();
    await this.gate.idle({ timeout }).catch(() => undefined);
    this.gate.fail(this.#sendRefusal);
    await this.shutdown(timeout);
  }

  /** For transports: one whole frame payload arrived. */
  protected receiveFrame(payload: Uint8Array): void {
    this.inbox.push(payload);
  }

  /** For transports: the peer closed (no `error`) or went away (`ERR_IPC_PEER_GONE`). */
  protected peerEnded(error?: IpcError): void {
    this.inbox.end(error);
    this.#finish(
      error ??
        new IpcError(
          IpcErrorCode.CLOSED,
          "the peer closed the channel; a message sent now would never be received",
        ),
    );
    this.ended(error === undefined ? { initiator: "peer" } : { initiator: "peer", error });
  }

  /** For transports: a protocol or system error ended the channel. */
  protected failed(error: IpcError): void {
    this.inbox.end(error);
    this.#finish(error);
    this.ended({ initiator: error.code === IpcErrorCode.PEER_GONE ? "peer" : "error", error });
  }

  #finish(refusal: IpcError): void {
    if (this.state === "closed") return;
    this.#sendRefusal ??= refusal;
    this.gate.fail(this.#sendRefusal);
  }
}

function unsupported(operation: string, hint: string): IpcError {
  return new IpcError(
    IpcErrorCode.UNSUPPORTED,
    `${operation} on a ${operation === "receive" ? "send" : "receive"}-only channel end; ${hint}`,
  );
}
