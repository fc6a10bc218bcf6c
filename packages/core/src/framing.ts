import { constants as bufferConstants } from "node:buffer";
import { IpcError, IpcErrorCode } from "./errors.js";

/** Largest frame a channel accepts unless `maxFrameSize` says otherwise: 64 MiB. */
export const DEFAULT_MAX_FRAME_SIZE_BYTES = 64 * 1024 * 1024;

/** Largest payload that still uses the 4-byte header; longer ones use `-1` plus an 8-byte length (as Python does). */
export const MAX_SHORT_FRAME_PAYLOAD_BYTES = 0x7fff_ffff;

/** Bytes of the usual frame header: a big-endian signed 32-bit length. */
export const SHORT_HEADER_BYTES = 4;
/** Bytes of the long frame header: `-1`, then a big-endian unsigned 64-bit length. */
export const LONG_HEADER_BYTES = 12;
const LONG_FORM_MARKER = -1;

/** The big-endian signed 32-bit integer at `offset` of `bytes`, read by hand (a DataView per frame costs more than the rest of decoding it). */
export function readInt32BE(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!;
}

/** Size of the header that starts at `offset` of `bytes` (its first 4 bytes must be there): 4, or 12 for the long form. */
export function frameHeaderBytesAt(bytes: Uint8Array, offset: number): number {
  return readInt32BE(bytes, offset) === LONG_FORM_MARKER ? LONG_HEADER_BYTES : SHORT_HEADER_BYTES;
}

/**
 * The payload length announced by the frame header at `offset` of `bytes`, where `available` bytes from
 * `offset` are readable; -1 when the header is not all there yet. The one parser of frame headers.
 * @throws `ERR_IPC_PROTOCOL` (a negative length other than -1), `ERR_IPC_FRAME_TOO_LARGE` (over `maxFrameSize`)
 */
export function readFrameHeader(
  bytes: Uint8Array,
  offset: number,
  available: number,
  maxFrameSize: number,
): number {
  if (available < SHORT_HEADER_BYTES) return -1;
  const short = readInt32BE(bytes, offset);
  if (short >= 0) {
    checkFrameSize(short, maxFrameSize, "the peer announced");
    return short;
  }
  if (short !== LONG_FORM_MARKER) {
    throw new IpcError(
      IpcErrorCode.PROTOCOL,
      `the peer sent an invalid frame header (length ${short}); it is not speaking the @ipc / multiprocessing.connection framing`,
    );
  }
  if (available < LONG_HEADER_BYTES) return -1;
  const high = readInt32BE(bytes, offset + 4) >>> 0;
  const low = readInt32BE(bytes, offset + 8) >>> 0;
  const length = BigInt(high) * 0x1_0000_0000n + BigInt(low);
  checkFrameSize(length, maxFrameSize, "the peer announced");
  return Number(length);
}

/** Throws `ERR_IPC_INVALID_ARGUMENT` unless `size` is a positive safe integer a Buffer can hold. */
export function validateMaxFrameSize(size: number): number {
  if (!Number.isSafeInteger(size) || size < 1 || size > bufferConstants.MAX_LENGTH) {
    throw new IpcError(
      IpcErrorCode.INVALID_ARGUMENT,
      `maxFrameSize must be an integer from 1 to ${bufferConstants.MAX_LENGTH} bytes, got ${String(size)}`,
    );
  }
  return size;
}

/** The header Python's `Connection.send_bytes` writes before a payload of `length` bytes. */
export function encodeFrameHeader(length: number): Buffer {
  if (length <= MAX_SHORT_FRAME_PAYLOAD_BYTES) {
    const header = Buffer.allocUnsafe(SHORT_HEADER_BYTES);
    header.writeInt32BE(length, 0);
    return header;
  }
  const header = Buffer.allocUnsafe(LONG_HEADER_BYTES);
  header.writeInt32BE(LONG_FORM_MARKER, 0);
  header.writeBigUInt64BE(BigInt(length), 4);
  return header;
}

/** Size of the header {@link encodeFrameHeader} writes for a payload of `length` bytes. */
export function frameHeaderSize(length: number): number {
  return length <= MAX_SHORT_FRAME_PAYLOAD_BYTES ? SHORT_HEADER_BYTES : LONG_HEADER_BYTES;
}

/** Writes the header for a payload of `length` bytes into `target` at `offset`; returns the header size. */
export function writeFrameHeader(target: Buffer, offset: number, length: number): number {
  if (length <= MAX_SHORT_FRAME_PAYLOAD_BYTES) {
    target.writeInt32BE(length, offset);
    return SHORT_HEADER_BYTES;
  }
  target.writeInt32BE(LONG_FORM_MARKER, offset);
  target.writeBigUInt64BE(BigInt(length), offset + 4);
  return LONG_HEADER_BYTES;
}

/** Throws `ERR_IPC_FRAME_TOO_LARGE` when a frame of `length` bytes exceeds `maxFrameSize`. */
export function checkFrameSize(length: number | bigint, maxFrameSize: number, direction: string): void {
  if (length > maxFrameSize) {
    throw new IpcError(
      IpcErrorCode.FRAME_TOO_LARGE,
      `${direction} a frame of ${length} bytes, over the limit of ${maxFrameSize} bytes; raise maxFrameSize on both ends if such messages are expected`,
    );
  }
}

/** Frames up to this size are received into one buffer allocated from their header. */
export const PREALLOCATE_LIMIT_BYTES = 1024 * 1024;

/**
 * Splits a byte stream into frame payloads, whatever the chunking. Guarantees: a frame wholly inside one
 * chunk is a view of it (no copy); a frame split across chunks is copied once: up to 1 MiB into a buffer
 * allocated from its header, as its chunks arrive (and counted in `bufferedBytes` whole), above that when
 * its last byte arrives, nothing being allocated for a larger claim before its bytes come; an oversize
 * claim throws `ERR_IPC_FRAME_TOO_LARGE`, a malformed header `ERR_IPC_PROTOCOL`, and every later `push`
 * throws the same.
 */

export class FrameDecoder {
  readonly #maxFrameSize: number;
  readonly #header = Buffer.alloc(LONG_HEADER_BYTES);
  #headerFill = 0;
  #payloadLength = -1;
  /** The payload in progress, when allocated once from its header (up to PREALLOCATE_LIMIT_BYTES). */
  #payload: Buffer | undefined;
  /** Or its chunks, for a larger frame (a peer's header alone must not make this process allocate much). */
  #parts: Uint8Array[] = [];
  #payloadFill = 0;
  #failure: IpcError | undefined;

  constructor(maxFrameSize: number = DEFAULT_MAX_FRAME_SIZE_BYTES) {
    this.#maxFrameSize = validateMaxFrameSize(maxFrameSize);
  }

  /** True when the bytes pushed so far end exactly at a frame boundary. */
  get atFrameBoundary(): boolean {
    return this.#headerFill === 0 && this.#payloadLength < 0;
  }

  /** Bytes held for the frame in progress: its header so far, and its payload's buffer or chunks so far. */
  get bufferedBytes(): number {
    return this.#headerFill + (this.#payload === undefined ? this.#payloadFill : this.#payload.byteLength);
  }

  /** Drops the frame in progress (its header or payload so far); returns how many bytes were dropped. */
  discardPartial(): number {
    const dropped = this.bufferedBytes;
    this.#headerFill = 0;
    this.#payloadLength = -1;
    this.#payload = undefined;
    this.#parts = [];
    this.#payloadFill = 0;
    return dropped;
  }

  /** Feeds one chunk; calls `onFrame` for every payload it completes, in order. */
  push(chunk: Uint8Array, onFrame: (payload: Uint8Array) => void): void {
    if (this.#failure) throw this.#failure;
    try {
      this.#push(chunk, onFrame);
    } catch (error) {
      if (error instanceof IpcError && error.code !== IpcErrorCode.DECODE) this.#failure = error;
      throw error;
    }
  }

  #push(chunk: Uint8Array, onFrame: (payload: Uint8Array) => void): void {
    const end = chunk.byteLength;
    let offset = 0;
    while (offset < end) {
      if (this.#payloadLength >= 0) {
        offset = this.#collectPayload(chunk, offset, onFrame);
        continue;
      }
      if (this.#headerFill === 0) {
        const length = readFrameHeader(chunk, offset, end - offset, this.#maxFrameSize);
        if (length >= 0) {
          offset += frameHeaderBytesAt(chunk, offset);
          if (end - offset >= length) {
            // A plain Uint8Array view: cheaper than Buffer#subarray, and what the bytes codec hands out.
            onFrame(new Uint8Array(chunk.buffer, chunk.byteOffset + offset, length));
            offset += length;
          } else {
            this.#payloadLength = length;
          }
          continue;
        }
      }
      offset = this.#collectHeader(chunk, offset, onFrame);
    }
  }

  /** Gathers a header split across chunks in #header, then starts its payload. */
  #collectHeader(chunk: Uint8Array, offset: number, onFrame: (payload: Uint8Array) => void): number {
    const needed =
      this.#headerFill >= SHORT_HEADER_BYTES ? frameHeaderBytesAt(this.#header, 0) : SHORT_HEADER_BYTES;
    const take = Math.min(needed - this.#headerFill, chunk.byteLength - offset);
    this.#header.set(chunk.subarray(offset, offset + take), this.#headerFill);
    this.#headerFill += take;
    offset += take;
    const length = readFrameHeader(this.#header, 0, this.#headerFill, this.#maxFrameSize);
    if (length < 0) return offset;
    this.#headerFill = 0;
    if (length === 0) onFrame(new Uint8Array(0));
    else this.#payloadLength = length;
    return offset;
  }

  /**
   * Gathers the payload's next bytes. A frame up to PREALLOCATE_LIMIT_BYTES goes into one buffer allocated
   * from its header, each chunk copied as it arrives (one copy, spread over the arrival); a larger one keeps
   * its chunks and joins them at the end, so that what a header announces costs nothing until it arrives.
   */
  #collectPayload(chunk: Uint8Array, offset: number, onFrame: (payload: Uint8Array) => void): number {
    const length = this.#payloadLength;
    const take = Math.min(length - this.#payloadFill, chunk.byteLength - offset);
    if (length <= PREALLOCATE_LIMIT_BYTES) {
      this.#payload ??= Buffer.allocUnsafeSlow(length);
      this.#payload.set(chunk.subarray(offset, offset + take), this.#payloadFill);
    } else {
      this.#parts.push(chunk.subarray(offset, offset + take));
    }
    this.#payloadFill += take;
    if (this.#payloadFill === length) this.#finishPayload(onFrame);
    return offset + take;
  }

  /**
   * Where the next read can go straight into a frame: the unfilled rest of a payload (up to 1 MiB, its
   * buffer allocated once from its header) that has at least `minBytes` still to come; else undefined.
   */
  directTarget(minBytes: number): Uint8Array | undefined {
    const length = this.#payloadLength;
    if (this.#failure || length > PREALLOCATE_LIMIT_BYTES || length - this.#payloadFill < minBytes) {
      return undefined;
    }
    this.#payload ??= Buffer.allocUnsafeSlow(length);
    return this.#payload.subarray(this.#payloadFill);
  }

  /** `count` bytes were read into what {@link directTarget} returned; calls `onFrame` when the payload is complete. */
  pushDirect(count: number, onFrame: (payload: Uint8Array) => void): void {
    if (this.#failure) throw this.#failure;
    this.#payloadFill += count;
    if (this.#payloadFill === this.#payloadLength) this.#finishPayload(onFrame);
  }

  #finishPayload(onFrame: (payload: Uint8Array) => void): void {
    const payload = this.#payload ?? Buffer.concat(this.#parts, this.#payloadLength);
    this.#payload = undefined;
    this.#parts = [];
    this.#payloadFill = 0;
    this.#payloadLength = -1;
    onFrame(payload);
  }
}
