import { IpcError, IpcErrorCode } from "@ipc/core";
import { futexNotify } from "./futex.js";

// Control words of a ring (Int32 indexes). The producer's words share one cache line, the consumer's
// another, so neither side's stores invalidate the line the other side writes.
/** Bytes written so far, modulo 2^32 (producer). The consumer sleeps on this word. */
export const WRITE_POS = 0;
/** Nonzero while the consumer sleeps or is about to (set by the consumer): 1 on the futex, 2 on the doorbell. */
export const READER_SLEEPING = 1;
/** 1 once the producer closed cleanly, after its last byte. */
export const WRITER_CLOSED = 2;
/** Process id of the producer (0 until it attached). */
export const WRITER_PID = 3;
/** Bytes read so far, modulo 2^32 (consumer). The producer sleeps on this word. */
export const READ_POS = 16;
/** Nonzero while the producer sleeps or is about to (set by the producer): 1 on the futex, 2 on the doorbell. */
export const WRITER_SLEEPING = 17;
/** 1 once the consumer closed: whatever is written now is never read. */
export const READER_CLOSED = 18;
/** Process id of the consumer (0 until it attached). */
export const READER_PID = 19;
/** Bytes of control words before a ring's data. */
export const RING_HEADER_BYTES = 128;
/** Values of a sleeping flag: how the side that raised it wants to be woken. */
export const SLEEPS_ON_FUTEX = 1;
export const SLEEPS_ON_DOORBELL = 2;

/**
 * One direction of a shared-memory channel: a single-producer, single-consumer byte ring of a power-of-two
 * capacity. Positions only grow (wrapping at 2^32); each side publishes its position with one atomic
 * store, and wakes the other only when that side said it sleeps.
 */
export class Ring {
  /** The control words. */
  readonly words: Int32Array;
  readonly capacity: number;
  readonly #bytes: Uint8Array;
  readonly #mask: number;
  /** Rings the other side's doorbell; false when there is none up (it is then woken on the futex). */
  bell: () => boolean = () => false;
  // Each side's own position, and its last look at the other side's.
  #writePos = 0;
  #readPosSeen = 0;
  #readPos = 0;
  /** The read position last published (a store the producer's cache line sees: only when it moved). */
  #readPosPublished = 0;

  /** The ring whose header starts at `byteOffset` of `buffer`, with `capacity` bytes of data after it. */
  constructor(buffer: ArrayBuffer, byteOffset: number, capacity: number) {
    this.words = new Int32Array(buffer, byteOffset, RING_HEADER_BYTES / 4);
    this.#bytes = new Uint8Array(buffer, byteOffset + RING_HEADER_BYTES, capacity);
    this.capacity = capacity;
    this.#mask = capacity - 1;
    this.#writePos = Atomics.load(this.words, WRITE_POS);
    this.#readPos = this.#readPosSeen = this.#readPosPublished = Atomics.load(this.words, READ_POS);
  }

  // ---- producer side ----

  /**
   * Bytes the producer may write now: from its last look at the consumer's position while that shows at
   * least `atLeast` free (a quarter of the ring by default), else from a fresh look, so an answer below
   * `atLeast` is never stale. @throws `ERR_IPC_PROTOCOL` when the consumer's published position is
   * impossible (ahead of what was written: the memory was overwritten)
   */
  writable(atLeast = this.capacity >>> 2): number {
    let free = this.capacity - ((this.#writePos - this.#readPosSeen) >>> 0);
    if (free <= 0 || free < atLeast) {
      this.#readPosSeen = Atomics.load(this.words, READ_POS);
      free = this.capacity - ((this.#writePos - this.#readPosSeen) >>> 0);
      if (free < 0) throw corrupt("read", this.#readPosSeen, this.#writePos, this.capacity);
    }
    return free;
  }

  /** Copies `bytes[from, from + count)` in (the caller checked `writable()`); visible after `publish()`. */
  put(bytes: Uint8Array, from: number, count: number): void {
    const at = this.#writePos & this.#mask;
    const first = Math.min(count, this.capacity - at);
    if (from === 0 && count === bytes.byteLength && first === count) this.#bytes.set(bytes, at);
    else {
      this.#bytes.set(bytes.subarray(from, from + first), at);
      if (first < count) this.#bytes.set(bytes.subarray(from + first, from + count), 0);
    }
    this.#writePos = (this.#writePos + count) | 0;
  }

  /** Writes a 4-byte big-endian integer (the caller checked `writable()`). */
  putInt32(value: number): void {
    const bytes = this.#bytes;
    const mask = this.#mask;
    const at = this.#writePos;
    bytes[at & mask] = value >>> 24;
    bytes[(at + 1) & mask] = value >>> 16;
    bytes[(at + 2) & mask] = value >>> 8;
    bytes[(at + 3) & mask] = value;
    this.#writePos = (at + 4) | 0;
  }

  /**
   * Makes what was put visible to the consumer, and wakes it if it sleeps: once per sleep (the flag is
   * taken down with the wake), not once per message while the consumer is on its way up.
   */
  publish(): void {
    Atomics.store(this.words, WRITE_POS, this.#writePos);
    if (Atomics.load(this.words, READER_SLEEPING) !== 0) this.#wake(READER_SLEEPING, WRITE_POS);
  }

  /** Takes down the other side's sleeping flag and wakes it the way it asked (any other value: the futex). */
  #wake(flag: number, word: number): void {
    const how = Atomics.exchange(this.words, flag, 0);
    if (how === 0 || (how === SLEEPS_ON_DOORBELL && this.bell())) return;
    futexNotify(this.words, word, 1);
  }

  // ---- consumer side ----

  /**
   * Bytes the consumer may read now. @throws `ERR_IPC_PROTOCOL` when the producer's published position is
   * impossible (more than the ring holds: the memory was overwritten)
   */
  readable(): number {
    const writePos = Atomics.load(this.words, WRITE_POS);
    const readable = (writePos - this.#readPos) >>> 0;
    if (readable > this.capacity) throw corrupt("write", writePos, this.#readPos, this.capacity);
    return readable;
  }

  /** True when the producer has published bytes the consumer has not taken. */
  hasNews(): boolean {
    return Atomics.load(this.words, WRITE_POS) !== this.#readPos;
  }

  /** The consumer's position, as published or about to be. */
  get readPosition(): number {
    return this.#readPos;
  }

  /** Skips `count` readable bytes. */
  skip(count: number): void {
    this.#readPos = (this.#readPos + count) | 0;
  }

  /** A copy of the next `count` readable bytes, taken. */
  take(count: number): Uint8Array {
    const out = this.copy(count);
    this.#readPos = (this.#readPos + count) | 0;
    return out;
  }

  /** A copy of the next `count` readable bytes, in a buffer of its own, left in the ring. */
  copy(count: number): Uint8Array {
    // Not zero-filled first, unlike `new Uint8Array(count)`: every byte is overwritten at once.
    const out = new Uint8Array(Buffer.allocUnsafeSlow(count).buffer, 0, count);
    this.#copyFrom(this.#readPos & this.#mask, out, 0, count);
    return out;
  }

  /** Copies the next `count` readable bytes into `target` at `offset`, leaving them in the ring. */
  copyInto(target: Uint8Array, offset: number, count: number): void {
    this.#copyFrom(this.#readPos & this.#mask, target, offset, count);
  }

  /** Takes the next `count` readable bytes into `target` at `offset`. */
  takeInto(target: Uint8Array, offset: number, count: number): void {
    this.#copyFrom(this.#readPos & this.#mask, target, offset, count);
    this.#readPos = (this.#readPos + count) | 0;
  }

  /** Frees what was taken for the producer, waking it when it sleeps and enough room opened up. */
  release(): void {
    if (this.#readPos === this.#readPosPublished) return;
    this.#readPosPublished = this.#readPos;
    Atomics.store(this.words, READ_POS, this.#readPos);
    if (Atomics.load(this.words, WRITER_SLEEPING) !== 0) {
      // Hysteresis: wake a sleeping producer once half the ring is free (or all of it), not per byte.
      const used = (Atomics.load(this.words, WRITE_POS) - this.#readPos) >>> 0;
      if (used <= this.capacity >>> 1) this.#wake(WRITER_SLEEPING, READ_POS);
    }
  }

  #copyFrom(at: number, target: Uint8Array, offset: number, count: number): void {
    const first = Math.min(count, this.capacity - at);
    target.set(this.#bytes.subarray(at, at + first), offset);
    if (first < count) target.set(this.#bytes.subarray(0, count - first), offset + first);
  }
}

/** `ERR_IPC_PROTOCOL` for a position word the other side published that no correct peer could have. */
function corrupt(which: "read" | "write", published: number, own: number, capacity: number): IpcError {
  return new IpcError(
    IpcErrorCode.PROTOCOL,
    `the peer published an impossible ${which} position (${published >>> 0}, ours is ${own >>> 0}, the ring holds ${capacity} bytes): the channel's shared memory was overwritten by something that is not an @ipc/shm channel end`,
  );
}
