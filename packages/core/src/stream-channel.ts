import type { Duplex } from "node:stream";
import { BaseChannel, type BaseChannelOptions } from "./base-channel.js";
import type { Channel } from "./channel.js";
import { DIRECT_READ_MIN_BYTES, type DirectReads } from "./direct-reads.js";
import { IpcError, IpcErrorCode, toIpcError } from "./errors.js";
import { FrameDecoder } from "./framing.js";
import type { ReceiveBudget } from "./receive-budget.js";
import { AtomicWriter, CoalescingWriter, type FrameWriter } from "./stream-writers.js";
import { raceTimeout } from "./timing.js";

/** Milliseconds a channel with a {@link PeerLife} waits to learn how its peer ended before reporting it. */
export const PEER_EXIT_GRACE_MS = 250;

/** A peer whose end can be observed (a child process), so the channel can say how the peer went away. */
export interface PeerLife {
  /** Resolves when the peer is gone: with the error to report for an abnormal end, else undefined. */
  readonly gone: Promise<IpcError | undefined>;
}

/** Options for {@link createStreamChannel}. */
export interface CreateStreamChannelOptions<T> extends BaseChannelOptions<T> {
  /**
   * The peer's life. When the stream ends, the channel waits up to 250 ms for it: an abnormal end (a
   * killed child) fails the channel with its error instead of a clean close. When the peer ends
   * abnormally but the stream stays open (a grandchild inherited it), the channel fails after 250 ms.
   */
  peerLife?: PeerLife | undefined;
  /**
   * Milliseconds the peer may stay silent (nothing received) before the channel fails with
   * `ERR_IPC_PEER_GONE`: detects half-open connections. Off by default.
   */
  idleTimeout?: number | undefined;
  /**
   * Every write(2) carries whole frames and at most this many bytes, one write at a time: with a pipe's
   * PIPE_BUF, writes from several processes sharing a FIFO never interleave. A message whose frame is
   * larger is refused with `ERR_IPC_FRAME_TOO_LARGE` (nothing is sent). Off by default.
   */
  atomicWriteBytes?: number | undefined;
  /**
   * A budget this channel shares with others (a listener's connections): what its reader has not taken
   * yet, buffered messages and a frame still arriving, counts against it; a channel that would go over
   * it fails with `ERR_IPC_LIMIT`. Off by default.
   */
  receiveBudget?: ReceiveBudget | undefined;
  /**
   * Every read from the stream holds whole frames (a FIFO whose writers each write whole frames of at
   * most PIPE_BUF bytes): what a read leaves unfinished — a message cut short by a writer that died, or
   * one that did not write whole frames — is dropped and reported here (`ERR_IPC_PEER_GONE`), and the next
   * read starts a new frame, so bytes of two writers are never joined into one message. Off by default.
   */
  onCutFrame?: ((error: IpcError) => void) | undefined;
  /**
   * The stream is a `net.Socket` created with `{ onread: directReads.onread }`: large messages are then
   * read straight into the buffers they are delivered in (see {@link DirectReads}). Not with `onCutFrame`.
   */
  directReads?: DirectReads | undefined;
}

/**
 * Turns a connected byte stream (a `net.Socket` over a pipe, FIFO or socket) into a {@link Channel}
 * speaking Python's `multiprocessing.connection` framing. The channel owns the stream from now on.
 * Guarantees: small messages sent in the same tick leave in one write; encoded payloads over 16 KiB are
 * written without a copy; a message split across reads is copied once on the way in.
 */
export function createStreamChannel<T = unknown>(
  stream: Duplex,
  options: CreateStreamChannelOptions<T> = {},
): Channel<T> {
  if (options.directReads !== undefined) {
    if (options.onCutFrame !== undefined) {
      throw new IpcError(
        IpcErrorCode.INVALID_ARGUMENT,
        "directReads cannot be combined with onCutFrame (which needs each read to end where a write ended)",
      );
    }
    if (!options.directReads.armed) {
      throw new IpcError(
        IpcErrorCode.INVALID_ARGUMENT,
        "directReads were given, but the stream was not created with their onread: pass { onread: reads.onread } when creating the net.Socket",
      );
    }
    if (options.directReads.attached) {
      throw new IpcError(
        IpcErrorCode.INVALID_ARGUMENT,
        "these directReads already feed another channel: create one DirectReads per socket",
      );
    }
  }
  return new StreamChannel(stream, options);
}

class StreamChannel<T> extends BaseChannel<T> {
  readonly #stream: Duplex;
  readonly #decoder: FrameDecoder;
  readonly #writer: FrameWriter;
  #shutDown = false;
  /** The stream has ended or failed; how that is reported may still wait for the peer's life. */
  #ending = false;
  readonly #peerLife: PeerLife | undefined;
  readonly #receiveOnly: boolean;
  readonly #budget: ReceiveBudget | undefined;
  readonly #onCutFrame: ((error: IpcError) => void) | undefined;
  /** Bytes charged to the budget now. */
  #charged = 0;
  /** When something last arrived (for `idleTimeout`). */
  #lastArrival = Date.now();

  constructor(stream: Duplex, options: CreateStreamChannelOptions<T>) {
    super(options);
    this.#stream = stream;
    this.#decoder = new FrameDecoder(this.maxFrameSize);
    this.#peerLife = options.peerLife;
    this.#receiveOnly = options.direction === "receive";
    this.#writer =
      options.atomicWriteBytes === undefined
        ? new CoalescingWriter(stream)
        : new AtomicWriter(stream, options.atomicWriteBytes, () => this.gate.notify());
    if (options.idleTimeout !== undefined) this.#watchIdle(options.idleTimeout);
    this.#budget = options.receiveBudget;
    this.#onCutFrame = options.onCutFrame;
    if (this.#budget !== undefined) this.inbox.onTake = () => this.#recharge();
    this.inbox.onSpace = () => stream.resume();
    stream.on("drain", () => this.gate.notify());
    stream.on("error", (error) => this.#onError(error));
    void this.#peerLife?.gone.then((abnormal) => this.#onPeerGone(abnormal));
    stream.on("close", () => this.#onClose());
    if (options.direction !== "send") {
      const reads = options.directReads;
      if (reads === undefined) stream.on("data", (chunk: Buffer) => this.#onData(chunk));
      else {
        reads.attach({
          directTarget: () => this.#decoder.directTarget(DIRECT_READ_MIN_BYTES),
          receivedDirect: (count) => this.#onDirectData(count),
          received: (bytes) => this.#onData(bytes),
        });
      }
      stream.on("end", () => this.#onEnd());
      // A stream paused earlier (by the authkey handshake, say) does not resume when a listener is added;
      // one that brought more than the buffer holds before the channel took it stays paused.
      if (!this.inbox.full) stream.resume();
    }
    this.keepAliveChanged();
  }

  /** An idle end does not hold the process open (writes in progress still do: libuv counts them). */
  protected override keepAliveChanged(): void {
    if (this.#shutDown || this.#stream === undefined) return;
    const handle = this.#stream as { ref?: () => void; unref?: () => void };
    if (this.keepsAlive) handle.ref?.();
    else handle.unref?.();
  }

  protected hasRoom(): boolean {
    return this.#writer.hasRoom();
  }

  protected override checkOutgoing(length: number): void {
    super.checkOutgoing(length);
    this.#writer.checkOutgoing(length);
  }

  protected writeFrame(payload: Uint8Array): void {
    this.#writer.write(payload, this.codec.borrowsInput === true);
  }

  protected flushFrames(): Promise<void> {
    return this.#writer.flushed();
  }

  protected async shutdown(timeoutMs: number): Promise<void> {
    this.#shutDown = true;
    const stream = this.#stream;
    await this.#writer.finish(timeoutMs);
    if (!stream.destroyed) {
      const finished = new Promise<void>((resolve) => {
        if (stream.writableFinished) return resolve();
        stream.once("finish", resolve);
        stream.once("close", resolve);
      });
      stream.end();
      if ((await raceTimeout(finished, timeoutMs, "timeout")) === "timeout") stream.destroy();
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
    const check = () => {
      if (this.state === "closed" || this.#ending || this.#shutDown) return;
      // A channel that stopped reading itself (its reader's buffer is full) does not hear the peer.
      if (this.inbox.full) this.#lastArrival = Date.now();
      const silentFor = Date.now() - this.#lastArrival;
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

  readonly #deliverFrame = (payload: Uint8Array) => this.receiveFrame(payload);

  /** A read went straight into the payload the decoder is filling. */
  #onDirectData(count: number): void {
    this.#lastArrival = Date.now();
    try {
      this.#decoder.pushDirect(count, this.#deliverFrame);
    } catch (error) {
      this.#abort(toIpcError(error, "stream channel"));
      return;
    }
    this.#afterData();
  }

  #onData(chunk: Uint8Array): void {
    this.#lastArrival = Date.now();
    try {
      this.#decoder.push(chunk, this.#deliverFrame);
    } catch (error) {
      this.#abort(toIpcError(error, "stream channel"));
      return;
    }
    if (this.#onCutFrame !== undefined && !this.#decoder.atFrameBoundary) {
      const dropped = this.#decoder.discardPartial();
      this.#onCutFrame(
        new IpcError(
          IpcErrorCode.PEER_GONE,
          `a writer left a message unfinished (${dropped} bytes of it arrived): it died mid-message, or did not write each message whole; those bytes were dropped`,
        ),
      );
    }
    this.#afterData();
  }

  /** After bytes arrived: enforces the shared budget, and stops reading while the reader's buffer is full. */
  #afterData(): void {
    if (!this.#recharge()) {
      this.#abort(
        new IpcError(
          IpcErrorCode.LIMIT,
          `this connection and the others of its listener would hold more than ${this.#budget!.limit} bytes of messages not yet received (maxBufferedBytes); it was closed. Read faster, send smaller messages, or raise the limit`,
        ),
      );
      return;
    }
    if (this.inbox.full && !this.#shutDown) this.#stream.pause();
  }

  /** Charges the shared budget with what this channel holds now; false when that goes over it. */
  #recharge(): boolean {
    const budget = this.#budget;
    if (budget === undefined) return true;
    const holding = this.state === "closed" ? 0 : this.inbox.bufferedBytes + this.#decoder.bufferedBytes;
    if (!budget.charge(this.#charged, holding)) return false;
    this.#charged = holding;
    return true;
  }

  /** Fails the channel from this side (bad input, a limit) and drops the stream. */
  #abort(error: IpcError): void {
    this.failed(error);
    this.#stream.destroy();
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
      void this.#writer.finish(0);
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
    const abnormal = await raceTimeout(this.#peerLife.gone, PEER_EXIT_GRACE_MS, undefined);
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
    this.#writer.dispose();
    this.#budget?.charge(this.#charged, 0);
    this.#charged = 0;
    if (this.#shutDown || this.#ending) return;
    this.peerEnded(
      new IpcError(
        IpcErrorCode.PEER_GONE,
        "the underlying stream closed before the peer ended the conversation; messages in flight may be lost",
      ),
    );
  }
}
