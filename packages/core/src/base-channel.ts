import type {
  Channel,
  ChannelOptions,
  ChannelState,
  CloseInfo,
  CloseOptions,
  ReceiveOptions,
  SendOptions,
} from "./channel.js";
import { type Codec, encodeWith } from "./codec.js";
import { json } from "./codecs/json.js";
import { IpcError, IpcErrorCode } from "./errors.js";
import { checkFrameSize, DEFAULT_MAX_FRAME_SIZE_BYTES, validateMaxFrameSize } from "./framing.js";
import { DEFAULT_RECEIVE_HIGH_WATER_MARK_BYTES, Inbox } from "./inbox.js";
import { SendGate } from "./send-gate.js";

/** Milliseconds `close()` waits for already-sent messages to flush before cutting the channel. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;

/** Which way messages flow through a channel end. */
export type ChannelDirection = "duplex" | "send" | "receive";

/** Options of {@link BaseChannel}, shared by every channel built on it. */
export interface BaseChannelOptions<T> extends ChannelOptions<T> {
  /** `"send"` or `"receive"` make a one-way end; the other operation rejects with `ERR_IPC_UNSUPPORTED`. @default "duplex" */
  direction?: ChannelDirection;
  /** Payload bytes buffered for the reader before the channel stops taking more from the peer. @default 1 MiB */
  receiveHighWaterMark?: number;
}

/**
 * The machinery every message channel shares: encoding, size limits, ordered sends with backpressure,
 * receive and iteration with abort and timeout, and the close life cycle. A transport extends it and
 * supplies only how frames are written, when there is room, and how it shuts down.
 */
export abstract class BaseChannel<T> implements Channel<T> {
  protected readonly inbox: Inbox<T>;
  protected readonly gate: SendGate;
  protected readonly maxFrameSize: number;
  readonly #codec: Codec<T>;
  readonly #direction: ChannelDirection;
  #state: ChannelState = "open";
  #sendRefusal: IpcError | undefined;
  #closing: Promise<void> | undefined;
  #settleClosed!: (info: CloseInfo) => void;
  readonly #closed: Promise<CloseInfo>;

  constructor(options: BaseChannelOptions<T> = {}) {
    this.#codec = options.codec ?? (json as Codec<T>);
    this.#direction = options.direction ?? "duplex";
    this.maxFrameSize = validateMaxFrameSize(options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE_BYTES);
    const highWaterMark = options.receiveHighWaterMark ?? DEFAULT_RECEIVE_HIGH_WATER_MARK_BYTES;
    if (!Number.isSafeInteger(highWaterMark) || highWaterMark < 1) {
      throw new IpcError(
        IpcErrorCode.INVALID_ARGUMENT,
        `receiveHighWaterMark must be a positive integer number of bytes, got ${String(highWaterMark)}`,
      );
    }
    if (!["duplex", "send", "receive"].includes(this.#direction)) {
      throw new IpcError(
        IpcErrorCode.INVALID_ARGUMENT,
        `direction must be "duplex", "send" or "receive", got ${String(this.#direction)}`,
      );
    }
    this.inbox = new Inbox(this.#codec, highWaterMark);
    this.gate = new SendGate(() => this.hasRoom());
    let settled = false;
    this.#closed = new Promise<CloseInfo>((resolve) => {
      this.#settleClosed = (info) => {
        if (settled) return;
        settled = true;
        resolve(Object.freeze(info));
      };
    });
  }

  /** Throws (nothing is sent) when a payload of `length` bytes may not be sent. */
  protected checkOutgoing(length: number): void {
    checkFrameSize(length, this.maxFrameSize, "send would write");
  }

  /** True when the transport can take another frame now without exceeding its buffer. */
  protected abstract hasRoom(): boolean;
  /** Takes one frame payload for delivery, synchronously; copies it if `codec.borrowsInput` and it keeps it. */
  protected abstract writeFrame(payload: Uint8Array): void;
  /** Flushes and closes the transport from this side, within `timeoutMs`. Called once. */
  protected abstract shutdown(timeoutMs: number): Promise<void>;
  /**
   * Called before every receive and iteration step: a transport that can fetch frames synchronously
   * (shared memory) does so here, so a message already there is delivered without a trip through the
   * event loop. Does nothing by default.
   */
  protected pollIncoming(): void {}

  get state(): ChannelState {
    return this.#state;
  }

  get closed(): Promise<CloseInfo> {
    return this.#closed;
  }

  get codec(): Codec<T> {
    return this.#codec;
  }

  send(message: T, options?: SendOptions): Promise<void> {
    if (this.#direction === "receive") {
      return Promise.reject(
        new IpcError(IpcErrorCode.UNSUPPORTED, "send on a receive-only channel end; send from the other end"),
      );
    }
    if (this.#sendRefusal) return Promise.reject(this.#sendRefusal);
    let payload: Uint8Array;
    try {
      payload = encodeWith(this.#codec, message);
      this.checkOutgoing(payload.byteLength);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.gate.admit(() => this.writeFrame(payload), options);
  }

  receive(options?: ReceiveOptions): Promise<T> {
    if (this.#direction === "send") {
      return Promise.reject(
        new IpcError(
          IpcErrorCode.UNSUPPORTED,
          "receive on a send-only channel end; receive at the other end",
        ),
      );
    }
    this.pollIncoming();
    return this.inbox.receive(options);
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

  close(options?: CloseOptions): Promise<void> {
    if (this.#closing) return this.#closing;
    const timeout = options?.timeout ?? DEFAULT_CLOSE_TIMEOUT_MS;
    if (this.#state === "open") this.#state = "closing";
    this.#sendRefusal ??= new IpcError(IpcErrorCode.CLOSED, "send on a channel that was closed locally");
    this.inbox.close();
    this.#closing = (async () => {
      try {
        await this.gate.idle(timeout).catch(() => undefined);
        this.gate.fail(this.#sendRefusal!);
        await this.shutdown(timeout);
      } finally {
        this.#state = "closed";
        this.#settleClosed({ initiator: "local" });
      }
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
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
      error === undefined ? { initiator: "peer" } : { initiator: "peer", error },
    );
  }

  /** For transports: a protocol or system error ended the channel. */
  protected failed(error: IpcError): void {
    this.inbox.end(error);
    this.#finish(error, { initiator: error.code === IpcErrorCode.PEER_GONE ? "peer" : "error", error });
  }

  #finish(refusal: IpcError, info: CloseInfo): void {
    if (this.#state === "closed") return;
    this.#sendRefusal ??= refusal;
    this.gate.fail(this.#sendRefusal);
    if (this.#closing === undefined) this.#state = "closed";
    this.#settleClosed(info);
  }
}
