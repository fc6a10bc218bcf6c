import type { OnReadOpts } from "node:net";

/** Reads that no frame takes whole go into chunks of this size, shared by the messages read into them. */
const CHUNK_BYTES = 64 * 1024;
/** A chunk with less room left than this is replaced: smaller reads would cost a system call for little. */
const MIN_CHUNK_READ_BYTES = 8 * 1024;
/** A payload with at least this much still to come is read straight into its own buffer. */
export const DIRECT_READ_MIN_BYTES = 16 * 1024;

/** What a channel tells {@link DirectReads}: where a read may go, and what arrived. @internal */
export interface DirectReadSink {
  /** The rest of a frame's payload the next read may fill, or undefined for a chunk read. */
  directTarget(): Uint8Array | undefined;
  /** `count` bytes were read into the last `directTarget()`. */
  receivedDirect(count: number): void;
  /** Bytes read into a chunk (a view of it; frames in it may stay views). */
  received(bytes: Uint8Array): void;
}

/**
 * Lets a stream channel choose where a socket's reads land: create the `net.Socket` with
 * `{ onread: reads.onread }` and pass `reads` to `createStreamChannel` as `directReads`. A message whose
 * header has arrived and that has 16 KiB or more (up to 1 MiB) still to come is read straight into the
 * buffer it is delivered in: no copy, and each read takes as much as the kernel holds, not 64 KiB.
 * Everything else is read into 64 KiB chunks that consecutive reads share, so buffered messages keep at
 * most about twice the bytes they are counted as alive, whatever the peer sends (Node's own reads do the
 * same). Bytes that arrive before the channel takes over are kept (the socket pauses) and handed to it
 * first.
 */
export class DirectReads {
  /** Pass as the `onread` option when creating the socket. */
  readonly onread: OnReadOpts;
  #sink: DirectReadSink | undefined;
  readonly #early: Uint8Array[] = [];
  #chunk = Buffer.allocUnsafeSlow(CHUNK_BYTES);
  #chunkUsed = 0;
  /** The buffer handed out last went straight into a frame. */
  #direct = false;
  #armed = false;

  constructor() {
    this.onread = {
      buffer: () => this.#nextBuffer(),
      callback: (count: number) => this.#read(count),
    };
  }

  /** True once a socket asked for a buffer: it was created with {@link onread}. */
  get armed(): boolean {
    return this.#armed;
  }

  /** True once a channel reads through these. */
  get attached(): boolean {
    return this.#sink !== undefined;
  }

  /** The channel that reads from now on; bytes that came before it are handed over first. @internal */
  attach(sink: DirectReadSink): void {
    if (this.#sink !== undefined) throw new Error("DirectReads attached twice");
    this.#sink = sink;
    for (const bytes of this.#early.splice(0)) sink.received(bytes);
  }

  #nextBuffer(): Uint8Array {
    this.#armed = true;
    const target = this.#sink?.directTarget();
    this.#direct = target !== undefined;
    if (target !== undefined) return target;
    if (CHUNK_BYTES - this.#chunkUsed < MIN_CHUNK_READ_BYTES) {
      this.#chunk = Buffer.allocUnsafeSlow(CHUNK_BYTES);
      this.#chunkUsed = 0;
    }
    return this.#chunk.subarray(this.#chunkUsed);
  }

  /** Returns false to pause the socket (nobody reads yet). */
  #read(count: number): boolean {
    if (this.#direct) {
      this.#sink!.receivedDirect(count);
      return true;
    }
    const at = this.#chunkUsed;
    // Later reads append after these bytes (8-byte aligned), so views of them stay valid.
    this.#chunkUsed = Math.min(CHUNK_BYTES, (at + count + 7) & ~7);
    const bytes = new Uint8Array(this.#chunk.buffer, this.#chunk.byteOffset + at, count);
    if (this.#sink === undefined) {
      this.#early.push(bytes);
      return false;
    }
    this.#sink.received(bytes);
    return true;
  }
}
