import type { Duplex } from "node:stream";
import { IpcError, IpcErrorCode, toIpcError } from "./errors.js";

/** Options for {@link SmallFrameReader}. */
export interface SmallFrameReaderOptions {
  /** Largest frame accepted; a larger header is `ERR_IPC_FRAME_TOO_LARGE` at once. */
  maxFrameBytes: number;
  /** What is being read, for error messages ("the authkey handshake"). */
  context: string;
}

/**
 * Reads a few small frames off a stream before a channel takes it over (handshakes, hellos). Guarantees:
 * bytes after the last frame read are put back into the stream by `release()`, for the channel; a
 * negative length is `ERR_IPC_PROTOCOL`; the peer ending the stream is `ERR_IPC_PEER_GONE`.
 */
export class SmallFrameReader {
  readonly #stream: Duplex;
  readonly #options: SmallFrameReaderOptions;
  #buffered = Buffer.alloc(0);
  #wake: (() => void) | undefined;
  #failure: IpcError | undefined;
  readonly #onData = (chunk: Buffer) => {
    this.#buffered = Buffer.concat([this.#buffered, chunk]);
    this.#wake?.();
  };
  readonly #onEnd = () =>
    this.#fail(
      new IpcError(IpcErrorCode.PEER_GONE, `the peer closed the connection during ${this.#options.context}`),
    );
  readonly #onError = (error: Error) => this.#fail(toIpcError(error, this.#options.context));

  constructor(stream: Duplex, options: SmallFrameReaderOptions) {
    this.#stream = stream;
    this.#options = options;
    stream.on("data", this.#onData);
    stream.on("end", this.#onEnd);
    stream.on("error", this.#onError);
    stream.resume();
  }

  /** The next whole frame's payload. */
  async read(): Promise<Buffer> {
    for (;;) {
      const frame = this.#take();
      if (frame) return frame;
      if (this.#failure) throw this.#failure;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
  }

  /** Stops reading and puts unread bytes back into the stream (paused) for whoever reads next. */
  release(): void {
    const stream = this.#stream;
    stream.pause();
    stream.off("data", this.#onData);
    stream.off("end", this.#onEnd);
    stream.off("error", this.#onError);
    if (this.#buffered.length > 0 && !stream.destroyed) stream.unshift(this.#buffered);
    this.#buffered = Buffer.alloc(0);
  }

  #take(): Buffer | undefined {
    if (this.#buffered.length < 4) return undefined;
    const length = this.#buffered.readInt32BE(0);
    if (length < 0) {
      throw new IpcError(IpcErrorCode.PROTOCOL, `${this.#options.context}: invalid frame length ${length}`);
    }
    if (length > this.#options.maxFrameBytes) {
      throw new IpcError(
        IpcErrorCode.FRAME_TOO_LARGE,
        `${this.#options.context}: the peer sent a ${length}-byte message, over the limit of ${this.#options.maxFrameBytes} bytes`,
      );
    }
    if (this.#buffered.length < 4 + length) return undefined;
    const frame = Buffer.from(this.#buffered.subarray(4, 4 + length));
    this.#buffered = this.#buffered.subarray(4 + length);
    return frame;
  }

  #fail(error: IpcError): void {
    this.#failure ??= error;
    this.#wake?.();
  }
}
