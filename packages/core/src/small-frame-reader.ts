import type { Duplex } from "node:stream";
import { IpcError, IpcErrorCode, toIpcError } from "./errors.js";
import { frameHeaderBytesAt, readFrameHeader } from "./framing.js";

/** Options for {@link SmallFrameReader}. */
export interface SmallFrameReaderOptions {
  /** Largest frame accepted; a larger header is `ERR_IPC_FRAME_TOO_LARGE` at once. */
  maxFrameBytes: number;
  /** What is being read, for error messages ("the authkey handshake"). */
  context: string;
}

/**
 * Reads a few small frames off a stream before a channel takes it over (handshakes, hellos). Guarantees:
 * bytes after the last frame read are put back into the stream by `release()`, for the channel; it reads
 * from the stream only while a read waits (so it holds at most one frame and one chunk); a
 * malformed header is `ERR_IPC_PROTOCOL`, one over `maxFrameBytes` `ERR_IPC_FRAME_TOO_LARGE` (at once);
 * the peer ending the stream is `ERR_IPC_PEER_GONE`.
 */
export class SmallFrameReader {
  readonly #stream: Duplex;
  readonly #options: SmallFrameReaderOptions;
  #buffered = Buffer.alloc(0);
  #wake: (() => void) | undefined;
  #failure: IpcError | undefined;
  readonly #onData = (chunk: Buffer) => {
    this.#buffered = Buffer.concat([this.#buffered, chunk]);
    // Reading goes on only while a read waits: a peer that sends more than it should is held back by the
    // kernel, and this buffer stays within one frame and one chunk.
    if (this.#wake === undefined) this.#stream.pause();
    this.#wake?.();
  };
  readonly #onEnd = () =>
    this.#fail(
      new IpcError(IpcErrorCode.PEER_GONE, `the peer closed the connection during ${this.#options.context}`),
    );
  readonly #onError = (error: Error) => this.#fail(toIpcError(error, this.#options.context));
  readonly #onClose = () =>
    this.#fail(
      new IpcError(IpcErrorCode.PEER_GONE, `the connection was closed during ${this.#options.context}`),
    );

  constructor(stream: Duplex, options: SmallFrameReaderOptions) {
    this.#stream = stream;
    this.#options = options;
    stream.on("data", this.#onData);
    stream.on("end", this.#onEnd);
    stream.on("error", this.#onError);
    stream.on("close", this.#onClose);
  }

  /** The next whole frame's payload. */
  async read(): Promise<Buffer> {
    for (;;) {
      const frame = this.#take();
      if (frame) return frame;
      if (this.#failure) throw this.#failure;
      const arrived = new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#stream.resume();
      await arrived;
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
    stream.off("close", this.#onClose);
    if (this.#buffered.length > 0 && !stream.destroyed) stream.unshift(this.#buffered);
    this.#buffered = Buffer.alloc(0);
  }

  #take(): Buffer | undefined {
    const buffered = this.#buffered;
    let length: number;
    try {
      length = readFrameHeader(buffered, 0, buffered.length, this.#options.maxFrameBytes);
    } catch (error) {
      const { code, message } = error as IpcError;
      throw new IpcError(code, `${this.#options.context}: ${message}`);
    }
    if (length < 0) return undefined;
    const start = frameHeaderBytesAt(buffered, 0);
    if (buffered.length < start + length) return undefined;
    const frame = Buffer.from(buffered.subarray(start, start + length));
    this.#buffered = buffered.subarray(start + length);
    return frame;
  }

  #fail(error: IpcError): void {
    this.#failure ??= error;
    this.#wake?.();
  }
}
