import { IpcError, IpcErrorCode } from "@ipc/core";
import { BaseChannel, type BaseChannelOptions, checkFrameSize, MAX_SHORT_FRAME_PAYLOAD_BYTES, processAlive, toIpcError } from "@ipc/core/transport";
import { ShmErrorCode } from "./errors.js";
import { futexNotify, futexWaitAsync } from "./futex.js";
import {
  READ_POS,
  READER_CLOSED,
  READER_PID,
  READER_SLEEPING,
  RING_HEADER_BYTES,
  Ring,
  WRITE_POS,
  WRITER_CLOSED,
  WRITER_PID,
  WRITER_SLEEPING,
} from "./ring.js";
import type { AnonymousSegment, Segment } from "./segment.js";

/** Bytes of ring per direction unless `capacity` says otherwise: 1 MiB. */
export const DEFAULT_RING_CAPACITY_BYTES = 1024 * 1024;
/** Microseconds a receive (or a blocked send) spins on the ring before it sleeps, unless `spinMicroseconds` says otherwise. */
export const DEFAULT_SPIN_MICROSECONDS = 20;
/** Most bytes of small frames copied out of the ring at once (each frame is then a view of the copy). */
const BATCH_BYTES = 256 * 1024;
/** Size of the buffer small received batches are copied into (each message is a view of it). */
const POOL_BYTES = 64 * 1024;
/** Batches up to this size go to the pool; larger ones get a buffer of their own. */
const POOL_COPY_MAX_BYTES = 8 * 1024;
/** How often a sleeping end checks that the peer process is alive, in milliseconds. */
const PEER_CHECK_MS = 100;

const MAGIC = 0x6970_6331; // "ipc1"
const VERSION = 1;
const CHANNEL_HEADER_BYTES = 64;
// Channel header words.
const H_MAGIC = 0;
const H_VERSION = 1;
const H_CAPACITY = 2;

/** Options of a shared-memory channel end. */
export interface ShmChannelOptions<T> extends Omit<BaseChannelOptions<T>, "direction"> {
  /**
   * Microseconds a receive with nothing to read spins on the ring before sleeping on a futex (and a send
   * that found the ring full, before sleeping). Spinning blocks the event loop for that long and buys
   * sub-microsecond wake-ups; 0 never spins. @default 20
   */
  spinMicroseconds?: number;
}

/** Bytes a channel segment needs for rings of `capacity` bytes each way. */
export function channelSegmentSize(capacity: number): number {
  return CHANNEL_HEADER_BYTES + 2 * (RING_HEADER_BYTES + capacity);
}

/** Checks a ring capacity: a power of two from 4 KiB to 1 GiB. */
export function checkRingCapacity(capacity: number): number {
  if (
    !Number.isSafeInteger(capacity) ||
    capacity < 4096 ||
    capacity > 2 ** 30 ||
    (capacity & (capacity - 1)) !== 0
  ) {
    throw new IpcError(
      IpcErrorCode.INVALID_ARGUMENT,
      `capacity must be a power of two from 4096 to 2^30 bytes, got ${String(capacity)}`,
    );
  }
  return capacity;
}

/** Writes a new channel's header into `segment` (its rings start zeroed: empty, no end attached). */
export function formatChannelSegment(segment: Segment, capacity: number): void {
  const header = new Int32Array(segment.buffer, 0, CHANNEL_HEADER_BYTES / 4);
  Atomics.store(header, H_CAPACITY, capacity);
  Atomics.store(header, H_VERSION, VERSION);
  Atomics.store(header, H_MAGIC, MAGIC);
}

interface Outgoing {
  readonly header: Uint8Array | undefined; // the 12-byte form only; short headers are written as an int32
  readonly payload: Uint8Array;
  headerDone: boolean;
  sent: number;
}

/**
 * A message channel over shared memory: two single-producer, single-consumer rings in one segment, one
 * per direction, framed as `multiprocessing.connection` frames. A receive first spins on the ring
 * (`spinMicroseconds`), then sleeps on a futex on a waiter thread; a full ring makes sends wait
 * (backpressure); a peer that dies is noticed within ~100 ms (`ERR_IPC_PEER_GONE`).
 */
export class ShmChannel<T> extends BaseChannel<T> {
  readonly #segment: Segment;
  readonly #out: Ring;
  readonly #in: Ring;
  readonly #spinMs: number;
  readonly #releaseName: (() => void) | undefined;
  readonly #releaseOnAttach: boolean;
  readonly #stop = new AbortController();
  readonly #pending: Outgoing[] = [];
  #writerRunning = false;
  #readerSleeping = false;
  #readerStarted = false;
  #waitingForSpace = false;
  #ended = false;
  #peerSeen = false;
  // Frame being received: its payload so far.
  #partial: Uint8Array | undefined;
  #partialFilled = 0;
  #pool: Uint8Array | undefined;
  #poolOffset = 0;
  readonly #borrows: boolean;

  /** @internal Use `createShmChannel` / `openShmChannel`. */
  constructor(
    segment: Segment,
    creator: boolean,
    options: ShmChannelOptions<T>,
    releaseName?: () => void,
    releaseOnAttach = true,
  ) {
    super(options);
    const spin = options.spinMicroseconds ?? DEFAULT_SPIN_MICROSECONDS;
    if (typeof spin !== "number" || !(spin >= 0) || !Number.isFinite(spin)) {
      throw new IpcError(
        IpcErrorCode.INVALID_ARGUMENT,
        `spinMicroseconds must be a non-negative number, got ${String(spin)}`,
      );
    }
    this.#spinMs = spin / 1000;
    this.#borrows = this.codec.borrowsInput === true;
    this.#segment = segment;
    const capacity = readChannelHeader(segment);
    const first = new Ring(segment.buffer, CHANNEL_HEADER_BYTES, capacity);
    const second = new Ring(segment.buffer, CHANNEL_HEADER_BYTES + RING_HEADER_BYTES + capacity, capacity);
    this.#out = creator ? first : second;
    this.#in = creator ? second : first;
    if (creator) {
      Atomics.store(this.#out.words, WRITER_PID, process.pid);
      Atomics.store(this.#in.words, READER_PID, process.pid);
    } else {
      // The creator's outgoing ring is our incoming one: its reader slot says whether someone attached.
      if (Atomics.compareExchange(this.#in.words, READER_PID, 0, process.pid) !== 0) {
        throw new IpcError(
          ShmErrorCode.CHANNEL_IN_USE,
          `${segment.name} already has both ends attached; a shared-memory channel joins exactly two processes`,
        );
      }
      Atomics.store(this.#out.words, WRITER_PID, process.pid);
      // Tell the creator (it may be asleep on its incoming ring) that we are here.
      futexNotify(this.#out.words, WRITE_POS, 1);
    }
    this.#releaseName = releaseName;
    this.#releaseOnAttach = releaseOnAttach;
    this.inbox.onSpace = () => {
      if (!this.#waitingForSpace) return;
      this.#waitingForSpace = false;
      void this.#readLoop();
    };
    void this.#readLoop();
  }

  /** Process id of the other end, or 0 until it attaches. */
  get peerPid(): number {
    return Atomics.load(this.#in.words, WRITER_PID);
  }

  /** The segment holding both rings. */
  get segment(): Segment {
    return this.#segment;
  }

  /** The descriptor of an anonymous channel segment, to hand to the child (`stdio`); undefined for a named one. */
  get fd(): number | undefined {
    return (this.#segment as Partial<AnonymousSegment>).fd;
  }

  /** Bytes of ring in each direction. */
  get capacity(): number {
    return this.#out.capacity;
  }

  // Room means a quarter of the ring is free: a send then writes straight into shared memory, and only a
  // frame larger than that can ever wait in this process (copied). Otherwise sends wait in the gate,
  // uncopied, while the write loop waits for the reader.
  protected override hasRoom(): boolean {
    if (this.#pending.length === 0 && this.#out.writable() >= this.#out.capacity >>> 2) return true;
    // After the refused send has joined the gate's queue, so the loop finds it waiting.
    queueMicrotask(this.#startWriteLoop);
    return false;
  }

  protected override writeFrame(payload: Uint8Array): void {
    const length = payload.byteLength;
    const long = length > MAX_SHORT_FRAME_PAYLOAD_BYTES;
    const out = this.#out;
    if (this.#pending.length === 0 && !long && out.writable() >= length + 4) {
      out.putInt32(length);
      out.put(payload, 0, length);
      out.publish();
      return;
    }
    let header: Uint8Array | undefined;
    if (long) {
      header = new Uint8Array(12);
      const view = new DataView(header.buffer);
      view.setInt32(0, -1);
      view.setBigUint64(4, BigInt(length));
    }
    const kept = this.#borrows ? payload.slice() : payload;
    this.#pending.push({ header, payload: kept, headerDone: false, sent: 0 });
    void this.#writeLoop();
  }

  /** Writes raw bytes past the framing (for tests of what a reader does with bad input). @internal */
  writeRaw(bytes: Uint8Array): void {
    if (this.#out.writable() < bytes.byteLength)
      throw new IpcError(IpcErrorCode.INVALID_ARGUMENT, "no room for raw bytes");
    this.#out.put(bytes, 0, bytes.byteLength);
    this.#out.publish();
  }

  // While the application keeps receiving, frames are fetched here, synchronously, and the producer is
  // told not to wake the read loop (a system call per message otherwise). Only when a receive is about to
  // wait does the read loop's wake-up flag go back up.
  protected override pollIncoming(): void {
    if (this.#ended || this.inbox.bufferedFrames > 0) return;
    const words = this.#in.words;
    // Stored only when it changes: the word sits on the producer's cache line.
    if (this.#readerSleeping && Atomics.load(words, READER_SLEEPING) !== 0)
      Atomics.store(words, READER_SLEEPING, 0);
    let got = this.#drain();
    const until = got > 0 || this.#spinMs === 0 ? 0 : performance.now() + this.#spinMs;
    while (got === 0 && !this.#ended && performance.now() < until) {
      if (this.#in.hasNews()) got = this.#drain();
      else if (Atomics.load(words, WRITER_CLOSED) !== 0) break;
    }
    if (got === 0 && this.#readerSleeping) {
      Atomics.store(words, READER_SLEEPING, 1);
      this.#drain(); // bytes published while the flag was down
    }
  }

  /** Moves every complete frame (and progress on a partial one) from the ring to the inbox; returns frames moved. */
  #drain(): number {
    if (this.#ended) return 0;
    const ring = this.#in;
    let frames = 0;
    try {
      for (;;) {
        let available = ring.readable();
        if (this.#partial !== undefined) {
          if (available === 0) break;
          const partial = this.#partial;
          const count = Math.min(available, partial.byteLength - this.#partialFilled);
          ring.takeInto(partial, this.#partialFilled, count);
          this.#partialFilled += count;
          if (this.#partialFilled < partial.byteLength) {
            ring.release();
            continue;
          }
          this.#partial = undefined;
          this.receiveFrame(partial);
          frames += 1;
        } else {
          if (available < 4 || this.inbox.full) break;
          const short = ring.peekInt32(0);
          if (short >= 0 && short + 4 <= Math.min(available, BATCH_BYTES) && short <= this.maxFrameSize) {
            frames += this.#drainBatch(Math.min(available, BATCH_BYTES));
            continue;
          }
          let length = short;
          let headerBytes = 4;
          if (short < 0) {
            if (short !== -1) {
              throw new IpcError(
                IpcErrorCode.PROTOCOL,
                `the peer wrote an invalid frame header (length ${short}) into shared memory; it is not an @ipc/shm channel end`,
              );
            }
            if (available < 12) break;
            let big = 0n;
            for (let i = 4; i < 12; i += 1) big = (big << 8n) | BigInt(ring.peek(i));
            checkFrameSize(big, this.maxFrameSize, "the peer announced");
            length = Number(big);
            headerBytes = 12;
          }
          checkFrameSize(length, this.maxFrameSize, "the peer announced");
          ring.skip(headerBytes);
          available -= headerBytes;
          if (available >= length) {
            this.receiveFrame(ring.take(length));
            frames += 1;
          } else {
            this.#partial = new Uint8Array(length);
            this.#partialFilled = 0;
          }
        }
        if ((ring.readPosition - Atomics.load(ring.words, READ_POS)) >>> 0 >= ring.capacity >>> 2)
          ring.release();
      }
    } catch (error) {
      ring.release();
      this.#end(toIpcError(error, "receiving"));
      return frames;
    }
    ring.release();
    return frames;
  }

  /**
   * Small frames, many at a time: one copy of up to `limit` bytes, then a view of it per frame (the first
   * frame is known to fit whole). Returns frames delivered; stops before any frame it cannot take whole.
   */
  #drainBatch(limit: number): number {
    const ring = this.#in;
    const chunk = this.#copyOut(limit);
    const { buffer, byteOffset } = chunk;
    const maxFrameSize = this.maxFrameSize;
    let offset = 0;
    let frames = 0;
    // Every whole frame of the copy is delivered, even past the inbox's high-water mark (by less than
    // BATCH_BYTES): stopping early would copy the rest again for the next few frames.
    while (offset + 4 <= limit) {
      const length =
        (chunk[offset]! << 24) | (chunk[offset + 1]! << 16) | (chunk[offset + 2]! << 8) | chunk[offset + 3]!;
      if (length < 0 || length > maxFrameSize || offset + 4 + length > limit) break;
      offset += 4;
      this.receiveFrame(new Uint8Array(buffer, byteOffset + offset, length));
      offset += length;
      frames += 1;
    }
    ring.skip(offset);
    return frames;
  }

  /**
   * A copy of the next `count` ring bytes. Small copies share a pool buffer (as Node's Buffer pool does):
   * a new ArrayBuffer per message would cost more than the rest of receiving it.
   */
  #copyOut(count: number): Uint8Array {
    if (count > POOL_COPY_MAX_BYTES) return this.#in.copy(count);
    if (this.#pool === undefined || this.#poolOffset + count > POOL_BYTES) {
      this.#pool = new Uint8Array(Buffer.allocUnsafeSlow(POOL_BYTES).buffer, 0, POOL_BYTES);
      this.#poolOffset = 0;
    }
    const at = this.#poolOffset;
    this.#in.copyInto(this.#pool, at, count);
    this.#poolOffset = (at + count + 7) & ~7;
    return this.#pool.subarray(at, at + count);
  }

  /** Keeps draining the incoming ring while the channel is open, sleeping on it when it is empty. */
  async #readLoop(): Promise<void> {
    if (this.#readerStarted) return;
    this.#readerStarted = true;
    const ring = this.#in;
    const words = ring.words;
    try {
      while (!this.#ended) {
        const seen = Atomics.load(words, WRITE_POS);
        const before = ring.readPosition;
        this.#drain();
        if (this.#ended) return;
        if (this.inbox.full) {
          this.#waitingForSpace = true;
          return;
        }
        this.#notePeer();
        if (ring.readPosition !== before) continue;
        // No progress: the ring is empty, or holds only part of a header. Sleep until it changes.
        if (Atomics.load(words, WRITER_CLOSED) !== 0) {
          this.#drain();
          this.#end(this.#incompleteFrameError("closed the channel"));
          return;
        }
        this.#readerSleeping = true;
        Atomics.store(words, READER_SLEEPING, 1);
        let result = "not-equal";
        if (Atomics.load(words, WRITE_POS) === seen && Atomics.load(words, WRITER_CLOSED) === 0) {
          result = await futexWaitAsync(words, WRITE_POS, seen, {
            timeout: PEER_CHECK_MS,
            signal: this.#stop.signal,
          });
        }
        this.#readerSleeping = false;
        Atomics.store(words, READER_SLEEPING, 0);
        if (result === "timed-out" && !this.#peerAlive()) {
          this.#drain();
          this.#end(
            this.#incompleteFrameError("died") ??
              new IpcError(
                IpcErrorCode.PEER_GONE,
                `the peer process ${this.peerPid} died; the channel is gone`,
              ),
          );
          return;
        }
      }
    } catch (error) {
      if (!this.#ended) this.#end(toIpcError(error, "waiting for messages"));
    } finally {
      this.#readerStarted = false;
    }
  }

  readonly #startWriteLoop = () => void this.#writeLoop();

  /** Writes queued frames as the reader frees room, sleeping on the ring when it is full. */
  async #writeLoop(): Promise<void> {
    if (this.#writerRunning) return;
    this.#writerRunning = true;
    const ring = this.#out;
    const words = ring.words;
    try {
      for (;;) {
        this.#writePending();
        this.gate.notify();
        if ((this.#pending.length === 0 && this.gate.waiting === 0) || this.#ended) return;
        const until = performance.now() + this.#spinMs;
        while (ring.writable() < this.#nextNeed() && performance.now() < until);
        if (ring.writable() >= this.#nextNeed()) continue;
        if (Atomics.load(words, READER_CLOSED) !== 0) {
          this.#peerClosedReading();
          return;
        }
        Atomics.store(words, WRITER_SLEEPING, 1);
        const seen = Atomics.load(words, READ_POS);
        let result = "not-equal";
        if (ring.writable() < this.#nextNeed()) {
          result = await futexWaitAsync(words, READ_POS, seen, {
            timeout: PEER_CHECK_MS,
            signal: this.#stop.signal,
          });
        }
        Atomics.store(words, WRITER_SLEEPING, 0);
        if (result === "timed-out" && !this.#peerAlive()) {
          this.#end(
            new IpcError(
              IpcErrorCode.PEER_GONE,
              `the peer process ${this.peerPid} died; the channel is gone`,
            ),
          );
          return;
        }
      }
    } catch (error) {
      if (!this.#ended) this.#end(toIpcError(error, "sending"));
    } finally {
      this.#writerRunning = false;
    }
  }

  /** Bytes the next write needs: a whole header, one byte of payload, or the room a waiting send needs. */
  #nextNeed(): number {
    const next = this.#pending[0];
    if (next === undefined) return this.#out.capacity >>> 2;
    if (next.headerDone) return 1;
    return next.header?.byteLength ?? 4;
  }

  #writePending(): void {
    const ring = this.#out;
    let wrote = false;
    while (this.#pending.length > 0) {
      const next = this.#pending[0]!;
      let free = ring.writable();
      if (!next.headerDone) {
        const size = next.header?.byteLength ?? 4;
        if (free < size) break;
        if (next.header) ring.put(next.header, 0, size);
        else ring.putInt32(next.payload.byteLength);
        next.headerDone = true;
        free -= size;
      }
      const count = Math.min(free, next.payload.byteLength - next.sent);
      if (count > 0) {
        ring.put(next.payload, next.sent, count);
        next.sent += count;
        wrote = true;
      }
      if (next.sent < next.payload.byteLength) break;
      this.#pending.shift();
      wrote = true;
    }
    if (wrote) ring.publish();
  }

  #notePeer(): void {
    if (this.#peerSeen || this.peerPid === 0) return;
    this.#peerSeen = true;
    if (this.#releaseOnAttach) this.#releaseName?.();
  }

  #peerAlive(): boolean {
    const pid = this.peerPid;
    return pid === 0 || processAlive(pid);
  }

  #peerClosedReading(): void {
    this.#drain();
    this.#end(undefined);
  }

  /** PEER_GONE when the peer stopped inside a frame, else undefined (a clean end). */
  #incompleteFrameError(what: string): IpcError | undefined {
    if (this.#partial === undefined && this.#in.readable() === 0) return undefined;
    return new IpcError(
      IpcErrorCode.PEER_GONE,
      `the peer ${what} in the middle of a message; the partial message was dropped`,
    );
  }

  /** Ends the channel from the peer's side: clean (no error), gone, or a protocol failure. */
  #end(error: IpcError | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#stop.abort();
    if (error === undefined) this.peerEnded();
    else if (error.code === IpcErrorCode.PEER_GONE) this.peerEnded(error);
    else this.failed(error);
  }

  protected override async shutdown(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.#pending.length > 0 && !this.#ended && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const out = this.#out.words;
    const incoming = this.#in.words;
    Atomics.store(out, WRITER_CLOSED, 1);
    futexNotify(out, WRITE_POS);
    Atomics.store(incoming, READER_CLOSED, 1);
    futexNotify(incoming, READ_POS);
    this.#ended = true;
    this.#stop.abort();
    this.#releaseName?.();
    this.#segment.close();
  }
}

/** The capacity in a channel segment's header. @throws `ERR_IPC_PROTOCOL` when it is not a channel segment */
export function readChannelHeader(segment: Segment): number {
  const header = new Int32Array(segment.buffer, 0, CHANNEL_HEADER_BYTES / 4);
  const capacity = Atomics.load(header, H_CAPACITY);
  if (
    Atomics.load(header, H_MAGIC) !== MAGIC ||
    Atomics.load(header, H_VERSION) !== VERSION ||
    segment.size < channelSegmentSize(capacity)
  ) {
    throw new IpcError(
      IpcErrorCode.PROTOCOL,
      `${segment.name} is not an @ipc/shm channel (version ${VERSION}); open it with openSegment, or check the name`,
    );
  }
  return capacity;
}
