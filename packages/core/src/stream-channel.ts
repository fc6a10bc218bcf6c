import type { Duplex } from "node:stream";
import { BaseChannel, type BaseChannelOptions } from "./base-channel.js";
import type { Channel } from "./channel.js";
import { IpcError, IpcErrorCode, toIpcError } from "./errors.js";
import { encodeFrameHeader, FrameDecoder, frameHeaderSize, writeFrameHeader } from "./framing.js";

/** Payloads up to this size are copied into a shared write batch; larger ones are written without a copy. */
export const COALESCE_LIMIT_BYTES = 16 * 1024;
/** A write batch is flushed at once when it reaches this size, else at the end of the current tick. */
export const WRITE_BATCH_BYTES = 64 * 1024;

/** Bytes of whole frames an atomic-write channel queues before sends wait. */
const ATOMIC_QUEUE_BYTES = 64 * 1024;

/** Milliseconds a channel with a {@link PeerLife} waits to learn how its peer ended before reporting it. */
export const PEER_EXIT_GRACE_MS = 250;

/** A peer whose end can be observed (a child process), so the channel can say how the peer went away. */
export interface PeerLife {
  /** Resolves when the peer is gone: with the error to report for an abnormal end, else undefined. */
  readonly gone: Promise<IpcError | undefined>;
}

/** Options for {@link createStreamChannel}. */
export interface StreamChannelOptions<T> extends BaseChannelOptions<T> {
  /**
   * The peer's life. When the stream ends, the channel waits up to 250 ms for it: an abnormal end (a
   * killed child) fails the channel with its error instead of a clean close. When the peer ends
   * abnormally but the stream stays open (a grandchild inherited it), the channel fails after 250 ms.
   */
  peerLife?: PeerLife;
  /**
   * Milliseconds the peer may stay silent (nothing received) before the channel fails with
   * `ERR_IPC_PEER_GONE`: detects half-open connections. Off by default.
   */
  idleTimeout?: number;
  /**
   * Every write(2) carries whole frames and at most this many bytes, one write at a time: with a pipe's
   * PIPE_BUF, writes from several processes sharing a FIFO never interleave. A message whose frame is
   * larger is refused with `ERR_IPC_FRAME_TOO_LARGE` (nothing is sent). Off by default.
   */
  atomicWriteBytes?: number;
}

/**
 * Turns a connected byte stream (a `net.Socket` over a pipe, FIFO or socket) into a {@link Channel}
 * speaking Python's `multiprocessing.connection` framing. The channel owns the stream from now on.
 * Guarantees: small messages sent in the same tick leave in one write; encoded payloads over 16 KiB are
 * written without a copy; a message split across reads is copied once on the way in.
 */
export function createStreamChannel<T = unknown>(
  stream: Duplex,
  options: StreamChannelOptions<T> = {},
): Channel<T> {
  return new StreamChannel(stream, options);
}

class StreamChannel<T> extends BaseChannel<T> {
  readonly #stream: Duplex;
  readonly #decoder: FrameDecoder;
  #batch: Buffer | undefined;
  #batchStart = 0;
  #batchEnd = 0;
  #flushScheduled = false;
  #shutDown = false;
  /** The stream has ended or failed; how that is reported may still wait for the peer's life. */
  #ending = false;
  readonly #peerLife: PeerLife | undefined;
  readonly #receiveOnly: boolean;
  readonly #atomicWriteBytes: number | undefined;
  readonly #atomicQueue: Buffer[] = [];
  #atomicQueued = 0;
  #atomicInFlight = false;
  #atomicDrained: (() => void)[] = [];

  constructor(stream: Duplex, options: StreamChannelOptions<T>) {
    super(options);
    this.#stream = stream;
    this.#decoder = new FrameDecoder(this.maxFrameSize);
    this.#peerLife = options.peerLife;
    this.#receiveOnly = options.direction === "receive";
    this.#atomicWriteBytes = options.atomicWriteBytes;
    if (
      this.#atomicWriteBytes !== undefined &&
      (!Number.isSafeInteger(this.#atomicWriteBytes) || this.#atomicWriteBytes < 5)
    ) {
      throw new IpcError(
        IpcErrorCode.INVALID_ARGUMENT,
        `atomicWriteBytes must be an integer of at least 5 bytes, got ${String(this.#atomicWriteBytes)}`,
      );
    }
    if (options.idleTimeout !== undefined) this.#watchIdle(options.idleTimeout);
    this.inbox.onSpace = () => stream.resume();
    stream.on("drain", () => this.gate.notify());
    stream.on("error", (error) => this.#onError(error));
    void this.#peerLife?.gone.then((abnormal) => this.#onPeerGone(abnormal));
    stream.on("close", () => this.#onClose());
    if (options.direction !== "send") {
      stream.on("data", (chunk: Buffer) => this.#onData(chunk));
      stream.on("end", () => this.#onEnd());
      // A stream paused earlier (by the authkey handshake, say) does not resume when a listener is added.
      stream.resume();
    }
  }

  protected hasRoom(): boolean {
    if (this.#atomicWriteBytes !== undefined) return this.#atomicQueued < ATOMIC_QUEUE_BYTES;
    return !this.#stream.writableNeedDrain;
  }

  protected override checkOutgoing(length: number): void {
    super.checkOutgoing(length);
    const limit = this.#atomicWriteBytes;
    if (limit !== undefined && frameHeaderSize(length) + length > limit) {
      throw new IpcError(
        IpcErrorCode.FRAME_TOO_LARGE,
        `a ${length}-byte message cannot be written atomically: with several writers sharing this pipe, a frame (4-byte header included) must fit in ${limit} bytes (PIPE_BUF), or it could interleave with theirs. Send smaller messages, or use one writer and turn off shared writes`,
      );
    }
  }

  protected writeFrame(payload: Uint8Array): void {
    const length = payload.byteLength;
    if (this.#atomicWriteBytes !== undefined) {
      const frame = Buffer.allocUnsafe(frameHeaderSize(length) + length);
      frame.set(payload, writeFrameHeader(frame, 0, length));
      this.#atomicQueue.push(frame);
      this.#atomicQueued += frame.byteLength;
      this.#pumpAtomic();
      return;
    }
    if (length <= COALESCE_LIMIT_BYTES) {
      const needed = frameHeaderSize(length) + length;
      if (this.#batch === undefined || this.#batch.byteLength - this.#batchEnd < needed) {
        this.#flush();
        this.#batch = Buffer.allocUnsafe(WRITE_BATCH_BYTES);
        this.#batchStart = this.#batchEnd = 0;
      }
      const batch = this.#batch;
      this.#batchEnd += writeFrameHeader(batch, this.#batchEnd, length);
      batch.set(payload, this.#batchEnd);
      this.#batchEnd += length;
      if (this.#batchEnd - this.#batchStart >= WRITE_BATCH_BYTES / 2) this.#flush();
      else this.#scheduleFlush();
      return;
    }
    this.#flush();
    const stream = this.#stream;
    if (stream.destroyed || stream.writableEnded) return;
    // The send resolves now, so bytes the caller still owns are copied; freshly encoded ones are not.
    const owned = this.codec.borrowsInput ? Buffer.from(payload) : payload;
    stream.cork();
    stream.write(encodeFrameHeader(length));
    stream.write(owned);
    stream.uncork();
  }

  protected async shutdown(timeoutMs: number): Promise<void> {
    this.#shutDown = true;
    const stream = this.#stream;
    this.#flush();
    if (this.#atomicQueued > 0 && !stream.destroyed) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.#atomicDrained.push(resolve)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
    }
    if (!stream.destroyed) {
      const finished = new Promise<void>((resolve) => {
        if (stream.writableFinished) return resolve();
        stream.once("finish", resolve);
        stream.once("close", resolve);
      });
      stream.end();
      const timer = setTimeout(() => stream.destroy(), timeoutMs);
      await finished;
      clearTimeout(timer);
    }
    this.#linger(timeoutMs);
  }

  /** After a local close, keeps reading (and discarding) until the peer ends, without holding the process open. */
  #linger(timeoutMs: number): void {
    const stream = this.#stream;
    if (stream.destroyed) return;
    // A receive-only end has sent nothing that could be lost: release it now, so the writer learns at once.
    if (this.#receiveOnly || !stream.readable || stream.readableEnded) {
      stream.destroy();
      return;
    }
    stream.resume();
    (stream as { unref?: () => void }).unref?.();
    setTimeout(() => stream.destroy(), timeoutMs).unref();
  }

  /** Fails the channel when nothing arrives for `timeoutMs`; every received chunk restarts the clock. */
  #watchIdle(timeoutMs: number): void {
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new IpcError(
        IpcErrorCode.INVALID_ARGUMENT,
        `idleTimeout must be a positive number of milliseconds, got ${String(timeoutMs)}`,
      );
    }
    const stream = this.#stream;
    let lastData = Date.now();
    stream.on("data", () => {
      lastData = Date.now();
    });
    const check = () => {
      if (this.state === "closed" || this.#ending || this.#shutDown) return;
      const silentFor = Date.now() - lastData;
      if (silentFor < timeoutMs) {
        timer = setTimeout(check, timeoutMs - silentFor).unref();
        return;
      }
      this.#ending = true;
      this.failed(
        new IpcError(
          IpcErrorCode.PEER_GONE,
          `the peer sent nothing for ${timeoutMs} ms (idleTimeout); the connection is presumed dead and was closed`,
        ),
      );
      stream.destroy();
    };
    let timer = setTimeout(check, timeoutMs).unref();
    stream.once("close", () => clearTimeout(timer));
  }

  /** Writes queued whole frames, at most `atomicWriteBytes` per write, the next only once the last is done. */
  #pumpAtomic(): void {
    const stream = this.#stream;
    if (this.#atomicInFlight || stream.destroyed || stream.writableEnded) return;
    if (this.#atomicQueue.length === 0) {
      for (const drained of this.#atomicDrained.splice(0)) drained();
      return;
    }
    const limit = this.#atomicWriteBytes!;
    let size = 0;
    let count = 0;
    while (count < this.#atomicQueue.length && size + this.#atomicQueue[count]!.byteLength <= limit) {
      size += this.#atomicQueue[count]!.byteLength;
      count += 1;
    }
    const frames = this.#atomicQueue.splice(0, count);
    this.#atomicQueued -= size;
    this.#atomicInFlight = true;
    stream.write(count === 1 ? frames[0]! : Buffer.concat(frames, size), () => {
      this.#atomicInFlight = false;
      this.gate.notify();
      this.#pumpAtomic();
    });
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // nextTick runs once the current chain of microtasks is done: a loop of awaited sends still coalesces.
    process.nextTick(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    if (this.#batch === undefined || this.#batchEnd === this.#batchStart) return;
    const chunk = this.#batch.subarray(this.#batchStart, this.#batchEnd);
    this.#batchStart = this.#batchEnd;
    const stream = this.#stream;
    if (stream.destroyed || stream.writableEnded) return;
    stream.write(chunk);
  }

  #onData(chunk: Buffer): void {
    try {
      this.#decoder.push(chunk, (payload) => this.receiveFrame(payload));
    } catch (error) {
      this.failed(toIpcError(error, "stream channel"));
      this.#stream.destroy();
      return;
    }
    if (this.inbox.full && !this.#shutDown) this.#stream.pause();
  }

  #onEnd(): void {
    this.#ending = true;
    const cut = this.#decoder.atFrameBoundary
      ? undefined
      : new IpcError(
          IpcErrorCode.PEER_GONE,
          `the peer's stream ended in the middle of a frame (${this.#decoder.bufferedBytes} bytes of it had arrived); that message is lost. The peer process probably died or closed without flushing`,
        );
    void this.#howPeerEnded(cut).then((error) => this.peerEnded(error));
    // A stream that allows half-open connections would otherwise keep our side open forever.
    if (!this.#stream.writableEnded) {
      this.#flush();
      this.#stream.end();
    }
  }

  #onError(cause: Error): void {
    this.#ending = true;
    const error = toIpcError(cause, "stream channel");
    if (error.code !== IpcErrorCode.PEER_GONE) {
      this.failed(error);
      return;
    }
    void this.#howPeerEnded(error).then((final) => this.failed(final ?? error));
  }

  /** With a known peer life, an abnormal end of the peer replaces what the stream alone could tell. */
  async #howPeerEnded(streamError: IpcError | undefined): Promise<IpcError | undefined> {
    if (this.#peerLife === undefined) return streamError;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), PEER_EXIT_GRACE_MS);
    });
    const abnormal = await Promise.race([this.#peerLife.gone, grace]);
    clearTimeout(timer);
    return abnormal ?? streamError;
  }

  #onPeerGone(abnormal: IpcError | undefined): void {
    if (abnormal === undefined) return;
    // Give the stream a moment to deliver what the peer wrote before it went, and its end.
    setTimeout(() => {
      if (this.#ending || this.#shutDown || this.state === "closed") return;
      this.#ending = true;
      this.failed(abnormal);
      this.#stream.destroy();
    }, PEER_EXIT_GRACE_MS);
  }

  #onClose(): void {
    this.#batch = undefined;
    if (this.#shutDown || this.#ending) return;
    this.peerEnded(
      new IpcError(
        IpcErrorCode.PEER_GONE,
        "the underlying stream closed before the peer ended the conversation; messages in flight may be lost",
      ),
    );
  }
}
