import type { Duplex } from "node:stream";
import { CopyPool } from "./copy-pool.js";
import { IpcError, IpcErrorCode, toIpcError } from "./errors.js";
import { encodeFrameHeader, frameHeaderSize, writeFrameHeader } from "./framing.js";
import { raceTimeout } from "./timing.js";

/** Payloads up to this size are copied into a shared write batch; larger ones are written without a copy. */
export const COALESCE_LIMIT_BYTES = 16 * 1024;
/** A write batch is flushed at once when it reaches this size, else at the end of the current tick. */
export const WRITE_BATCH_BYTES = 64 * 1024;
/** Most bytes of copy buffers a writer keeps for reuse once their writes completed. */
const SPARE_COPY_BYTES = 4 * 1024 * 1024;
/** Bytes of whole frames an atomic writer queues before sends wait. */
const ATOMIC_QUEUE_BYTES = 64 * 1024;

/** How a stream channel puts frames on its stream. */
export interface FrameWriter {
  /** True when another frame may be taken now. */
  hasRoom(): boolean;
  /** Throws (nothing is written) when a payload of `length` bytes cannot be written this way. */
  checkOutgoing(length: number): void;
  /** Takes one frame's payload; `borrowed` bytes belong to the caller and are copied if kept. */
  write(payload: Uint8Array, borrowed: boolean): void;
  /** Resolves once every frame taken so far is handed to the kernel; rejects if the stream failed first. */
  flushed(): Promise<void>;
  /** Puts out everything taken, within `timeoutMs` (the stream is then ended by the channel). */
  finish(timeoutMs: number): Promise<void>;
  /** Frees what the writer holds once the stream is closed. */
  dispose(): void;
}

/** Counts writes handed to the stream and their completions, so `flushed()` knows when all are done. */
class WriteTracker {
  #issued = 0;
  #completed = 0;
  #failure: Error | undefined;
  readonly #waiters: { target: number; resolve: () => void; reject: (error: unknown) => void }[] = [];
  readonly onWritten = (error?: Error | null): void => {
    this.#completed += 1;
    if (error) this.#failure ??= error;
    while (this.#waiters.length > 0 && (this.#waiters[0]!.target <= this.#completed || this.#failure)) {
      const waiter = this.#waiters.shift()!;
      if (this.#failure) waiter.reject(toIpcError(this.#failure, "flush"));
      else waiter.resolve();
    }
  };

  issued(): void {
    this.#issued += 1;
  }

  flushed(): Promise<void> {
    if (this.#failure) return Promise.reject(toIpcError(this.#failure, "flush"));
    if (this.#completed === this.#issued) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters.push({ target: this.#issued, resolve, reject }));
  }
}

/**
 * Small frames sent in the same tick leave in one write (copied into a batch); frames over 16 KiB are
 * written as they are, without a copy of freshly encoded bytes. The caller's own bytes are copied (its
 * send resolves at once, and it may reuse them), into buffers reused once their write completed: a fresh
 * buffer per message would cost a page fault per 4 KiB on top of the copy.
 */
export class CoalescingWriter implements FrameWriter {
  readonly #stream: Duplex;
  readonly #tracker = new WriteTracker();
  #batch: Buffer | undefined;
  #batchStart = 0;
  #batchEnd = 0;
  #flushScheduled = false;
  /** Copy buffers whose writes completed, for the next large borrowed payloads. */
  readonly #copies = new CopyPool(SPARE_COPY_BYTES);

  constructor(stream: Duplex) {
    this.#stream = stream;
  }

  hasRoom(): boolean {
    return !this.#stream.writableNeedDrain;
  }

  checkOutgoing(): void {}

  write(payload: Uint8Array, borrowed: boolean): void {
    const length = payload.byteLength;
    if (length <= COALESCE_LIMIT_BYTES) {
      const needed = frameHeaderSize(length) + length;
      if (this.#batch === undefined || this.#batch.byteLength - this.#batchEnd < needed) {
        this.#flushBatch();
        this.#batch = Buffer.allocUnsafe(WRITE_BATCH_BYTES);
        this.#batchStart = this.#batchEnd = 0;
      }
      const batch = this.#batch;
      this.#batchEnd += writeFrameHeader(batch, this.#batchEnd, length);
      batch.set(payload, this.#batchEnd);
      this.#batchEnd += length;
      if (this.#batchEnd - this.#batchStart >= WRITE_BATCH_BYTES / 2) this.#flushBatch();
      else this.#scheduleFlush();
      return;
    }
    this.#flushBatch();
    const stream = this.#stream;
    if (stream.destroyed || stream.writableEnded) return;
    stream.cork();
    stream.write(encodeFrameHeader(length));
    this.#tracker.issued();
    if (borrowed) {
      // The send resolves now, so bytes the caller still owns are copied; freshly encoded ones are not.
      const copy = this.#copies.take(length);
      copy.set(payload);
      stream.write(copy.subarray(0, length), (error?: Error | null) => {
        this.#copies.give(copy);
        this.#tracker.onWritten(error);
      });
    } else {
      stream.write(payload, this.#tracker.onWritten);
    }
    stream.uncork();
  }

  flushed(): Promise<void> {
    this.#flushBatch();
    return this.#tracker.flushed();
  }

  async finish(): Promise<void> {
    this.#flushBatch();
  }

  dispose(): void {
    this.#batch = undefined;
    this.#copies.clear();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // nextTick runs once the current chain of microtasks is done: a loop of awaited sends still coalesces.
    process.nextTick(() => {
      this.#flushScheduled = false;
      this.#flushBatch();
    });
  }

  #flushBatch(): void {
    if (this.#batch === undefined || this.#batchEnd === this.#batchStart) return;
    const chunk = this.#batch.subarray(this.#batchStart, this.#batchEnd);
    this.#batchStart = this.#batchEnd;
    const stream = this.#stream;
    if (stream.destroyed || stream.writableEnded) return;
    this.#tracker.issued();
    stream.write(chunk, this.#tracker.onWritten);
  }
}

/**
 * Every write(2) carries whole frames and at most `limit` bytes, one write at a time: with a pipe's
 * PIPE_BUF as the limit, writes from several processes sharing a FIFO never interleave.
 */
export class AtomicWriter implements FrameWriter {
  readonly #stream: Duplex;
  readonly #limit: number;
  readonly #onProgress: () => void;
  readonly #tracker = new WriteTracker();
  readonly #queue: Buffer[] = [];
  #queued = 0;
  #inFlight = false;
  #drained: (() => void)[] = [];

  /** `onProgress` is called whenever a write completes (room may have opened). */
  constructor(stream: Duplex, limit: number, onProgress: () => void) {
    if (!Number.isSafeInteger(limit) || limit < 5) {
      throw new IpcError(
        IpcErrorCode.INVALID_ARGUMENT,
        `atomicWriteBytes must be an integer of at least 5 bytes, got ${String(limit)}`,
      );
    }
    this.#stream = stream;
    this.#limit = limit;
    this.#onProgress = onProgress;
  }

  hasRoom(): boolean {
    return this.#queued < ATOMIC_QUEUE_BYTES;
  }

  checkOutgoing(length: number): void {
    if (frameHeaderSize(length) + length > this.#limit) {
      throw new IpcError(
        IpcErrorCode.FRAME_TOO_LARGE,
        `a ${length}-byte message cannot be written atomically: with several writers sharing this pipe, a frame (4-byte header included) must fit in ${this.#limit} bytes (PIPE_BUF), or it could interleave with theirs. Send smaller messages, or use one writer and turn off shared writes`,
      );
    }
  }

  write(payload: Uint8Array): void {
    const length = payload.byteLength;
    const frame = Buffer.allocUnsafe(frameHeaderSize(length) + length);
    frame.set(payload, writeFrameHeader(frame, 0, length));
    this.#queue.push(frame);
    this.#queued += frame.byteLength;
    this.#pump();
  }

  async flushed(): Promise<void> {
    if (this.#queued > 0) await new Promise<void>((resolve) => this.#drained.push(resolve));
    if (this.#queued > 0) {
      throw new IpcError(IpcErrorCode.PEER_GONE, "the stream closed before every queued message was written");
    }
    await this.#tracker.flushed();
  }

  async finish(timeoutMs: number): Promise<void> {
    if (this.#queued === 0 || this.#stream.destroyed) return;
    await raceTimeout(new Promise<void>((resolve) => this.#drained.push(resolve)), timeoutMs, undefined);
  }

  dispose(): void {
    for (const drained of this.#drained.splice(0)) drained();
  }

  /** Writes queued whole frames, at most `limit` bytes per write, the next only once the last is done. */
  #pump(): void {
    const stream = this.#stream;
    if (this.#inFlight || stream.destroyed || stream.writableEnded) return;
    if (this.#queue.length === 0) {
      for (const drained of this.#drained.splice(0)) drained();
      return;
    }
    let size = 0;
    let count = 0;
    while (count < this.#queue.length && size + this.#queue[count]!.byteLength <= this.#limit) {
      size += this.#queue[count]!.byteLength;
      count += 1;
    }
    const frames = this.#queue.splice(0, count);
    this.#queued -= size;
    this.#inFlight = true;
    this.#tracker.issued();
    stream.write(count === 1 ? frames[0]! : Buffer.concat(frames, size), (error) => {
      this.#tracker.onWritten(error);
      this.#inFlight = false;
      this.#onProgress();
      this.#pump();
    });
  }
}
