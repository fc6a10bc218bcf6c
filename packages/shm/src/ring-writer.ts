import { CopyPool, encodeFrameHeader, frameHeaderSize } from "@ipc/core/transport";
import type { Ring } from "./ring.js";

/** Most bytes of copy buffers kept for reuse (see CopyPool). */
const COPY_POOL_BYTES = 4 * 1024 * 1024;

/** A frame waiting to go into the ring: its header (long form only), payload, and progress. */
interface Outgoing {
  /** The 12-byte header of a long frame; short headers are written straight into the ring. */
  readonly header: Uint8Array | undefined;
  readonly payload: Uint8Array;
  /** The pool buffer `payload` was copied into (a borrowed payload), given back once it is in the ring. */
  readonly copy: Buffer | undefined;
  headerDone: boolean;
  sent: number;
}

/**
 * Puts frames into the outgoing ring: at once when they fit, else queued (copied if the caller's) and
 * streamed through the ring as the reader frees room, so a frame larger than the ring still goes through.
 * Guarantees: frames go in whole and in order; bytes become visible to the reader only at `publish`.
 */
export class RingWriter {
  readonly #ring: Ring;
  readonly #pending: Outgoing[] = [];
  readonly #copies = new CopyPool(COPY_POOL_BYTES);

  constructor(ring: Ring) {
    this.#ring = ring;
  }

  /** Frames queued and not yet wholly in the ring. */
  get pending(): number {
    return this.#pending.length;
  }

  /** Bytes the next queued write needs to make progress (a whole header, or one payload byte); `idle` when nothing is queued. */
  nextNeed(idle: number): number {
    const next = this.#pending[0];
    if (next === undefined) return idle;
    if (next.headerDone) return 1;
    return next.header?.byteLength ?? 4;
  }

  /** Takes one frame: into the ring now when it fits whole behind nothing queued, else queued (`borrowed` bytes copied). */
  write(payload: Uint8Array, borrowed: boolean): void {
    const length = payload.byteLength;
    const ring = this.#ring;
    const short = frameHeaderSize(length) === 4;
    if (this.#pending.length === 0 && short && ring.writable(length + 4) >= length + 4) {
      ring.putInt32(length);
      ring.put(payload, 0, length);
      ring.publish();
      return;
    }
    const copy = borrowed ? this.#copies.take(length) : undefined;
    copy?.set(payload);
    this.#pending.push({
      header: short ? undefined : encodeFrameHeader(length),
      payload: copy === undefined ? payload : copy.subarray(0, length),
      copy,
      headerDone: false,
      sent: 0,
    });
  }

  /** Writes as much of the queue as the ring has room for, and publishes it. */
  writePending(): void {
    const ring = this.#ring;
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
      if (next.copy !== undefined) this.#copies.give(next.copy);
      wrote = true;
    }
    if (wrote) ring.publish();
  }
}
