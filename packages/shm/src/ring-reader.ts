import { frameHeaderBytesAt, LONG_HEADER_BYTES, readFrameHeader } from "@ipc/core/transport";
import { READ_POS, type Ring } from "./ring.js";

/** Most bytes of small frames copied out of the ring at once (each frame is then a view of the copy). */
const BATCH_BYTES = 256 * 1024;
/** Size of the buffer small received batches are copied into (each message is a view of it). */
const POOL_BYTES = 64 * 1024;
/** Batches up to this size go to the pool; larger ones get a buffer of their own. */
const POOL_COPY_MAX_BYTES = 8 * 1024;

/**
 * Takes whole frames out of the incoming ring. Every byte in the ring was written by another process: a
 * header is copied out before it is parsed (by core's one frame-header parser), lengths are checked
 * against `maxFrameSize` and the ring's real contents, and a payload is handed on only as a private copy.
 * Guarantees: frames come out whole and in order; a frame larger than what is readable waits (or is
 * assembled across calls); the reader stops when `full()` says the receiver has enough.
 */
export class RingReader {
  readonly #ring: Ring;
  readonly #maxFrameSize: number;
  readonly #deliver: (payload: Uint8Array) => void;
  readonly #full: () => boolean;
  readonly #header = new Uint8Array(LONG_HEADER_BYTES);
  /** A frame being assembled across calls: its payload so far. */
  #partial: Uint8Array | undefined;
  #partialFilled = 0;
  #pool: Uint8Array | undefined;
  #poolOffset = 0;

  constructor(ring: Ring, maxFrameSize: number, deliver: (payload: Uint8Array) => void, full: () => boolean) {
    this.#ring = ring;
    this.#maxFrameSize = maxFrameSize;
    this.#deliver = deliver;
    this.#full = full;
  }

  /** True while a frame is only partly received (the peer ending now would cut it). */
  get midFrame(): boolean {
    return this.#partial !== undefined || this.#ring.readable() > 0;
  }

  /**
   * Moves every complete frame (and progress on a partial one) out of the ring; returns frames delivered.
   * @throws `ERR_IPC_PROTOCOL` (malformed header, impossible ring position), `ERR_IPC_FRAME_TOO_LARGE`
   */
  drain(): number {
    const ring = this.#ring;
    let frames = 0;
    try {
      for (;;) {
        let available = ring.readable();
        if (this.#partial !== undefined) {
          if (available === 0) break;
          frames += this.#continuePartial(available);
        } else {
          if (available < 4 || this.#full()) break;
          const headerBytes = Math.min(available, LONG_HEADER_BYTES);
          ring.copyInto(this.#header, 0, headerBytes);
          const length = readFrameHeader(this.#header, 0, headerBytes, this.#maxFrameSize);
          if (length < 0) break;
          const size = frameHeaderBytesAt(this.#header, 0);
          if (size === 4 && length + 4 <= Math.min(available, BATCH_BYTES)) {
            frames += this.#drainBatch(Math.min(available, BATCH_BYTES));
          } else {
            ring.skip(size);
            available -= size;
            if (available >= length) {
              this.#deliver(ring.take(length));
              frames += 1;
            } else {
              // Not zero-filled (every byte is overwritten as it arrives): zeroing 1 MiB costs more than copying it.
              this.#partial = new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length);
              this.#partialFilled = 0;
            }
          }
        }
        // Give the producer its room back in large steps, not per frame.
        if ((ring.readPosition - Atomics.load(ring.words, READ_POS)) >>> 0 >= ring.capacity >>> 2)
          ring.release();
      }
    } finally {
      ring.release();
    }
    return frames;
  }

  #continuePartial(available: number): number {
    const partial = this.#partial!;
    const count = Math.min(available, partial.byteLength - this.#partialFilled);
    this.#ring.takeInto(partial, this.#partialFilled, count);
    this.#partialFilled += count;
    if (this.#partialFilled < partial.byteLength) {
      this.#ring.release();
      return 0;
    }
    this.#partial = undefined;
    this.#deliver(partial);
    return 1;
  }

  /**
   * Small frames, many at a time: one copy of up to `limit` bytes, then a view of it per frame (the first
   * frame is known to fit whole). Stops before any frame it cannot take whole from the copy.
   */
  #drainBatch(limit: number): number {
    const chunk = this.#copyOut(limit);
    const { buffer, byteOffset } = chunk;
    let offset = 0;
    let frames = 0;
    // Every whole frame of the copy is delivered, even past the receiver's high-water mark (by less than
    // BATCH_BYTES): stopping early would copy the rest again for the next few frames.
    while (offset + 4 <= limit) {
      const length = readFrameHeader(chunk, offset, 4, this.#maxFrameSize);
      if (length < 0 || frameHeaderBytesAt(chunk, offset) !== 4 || offset + 4 + length > limit) break;
      offset += 4;
      this.#deliver(new Uint8Array(buffer, byteOffset + offset, length));
      offset += length;
      frames += 1;
    }
    this.#ring.skip(offset);
    return frames;
  }

  /**
   * A copy of the next `count` ring bytes. Small copies share a pool buffer (as Node's Buffer pool does):
   * a new ArrayBuffer per message would cost more than the rest of receiving it.
   */
  #copyOut(count: number): Uint8Array {
    if (count > POOL_COPY_MAX_BYTES) return this.#ring.copy(count);
    if (this.#pool === undefined || this.#poolOffset + count > POOL_BYTES) {
      this.#pool = new Uint8Array(Buffer.allocUnsafeSlow(POOL_BYTES).buffer, 0, POOL_BYTES);
      this.#poolOffset = 0;
    }
    const at = this.#poolOffset;
    this.#ring.copyInto(this.#pool, at, count);
    this.#poolOffset = (at + count + 7) & ~7;
    return this.#pool.subarray(at, at + count);
  }
}
