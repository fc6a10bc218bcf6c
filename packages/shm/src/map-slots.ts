import { IpcError, IpcErrorCode } from "@ipc/core";

// The layout of a shared map's memory (docs/wire-format.md): a 64-byte header, then `capacity` slots.
/** Header bytes: the segment header words, the entry count, and the map's lock. */
export const MAP_HEADER_BYTES = 64;
/** Header word: entries in use. */
export const COUNT_WORD = 5;
/** Byte offset of the map's `SharedLock` (16 bytes). */
export const LOCK_OFFSET = 32;

/** Slot field offsets, in bytes from the slot's start. */
const STATE = 0;
const HASH = 4;
const KEY_LENGTH = 8;
/** The value's encoded length, or {@link COUNTER_LENGTH} for a counter. */
const VALUE_LENGTH = 12;
/** A counter's float64 value. */
const COUNTER_VALUE = 16;
/** Then the key (`maxKeyBytes`), then the value (`maxValueBytes`). */
const SLOT_HEADER_BYTES = 24;

/** Slot states. */
export const EMPTY = 0;
export const USED = 1;
export const DELETED = 2;
/** A slot being written: a holder that dies leaves this, and the next locker drops the entry. */
export const WRITING = 3;
const COUNTER_LENGTH = -1;

/** Bytes one slot takes for keys and values up to these sizes (a multiple of 8). */
export function slotSize(maxKeyBytes: number, maxValueBytes: number): number {
  return Math.ceil((SLOT_HEADER_BYTES + maxKeyBytes + maxValueBytes) / 8) * 8;
}

/** What a slot holds, read once (its bytes may change under another process only if it breaks the lock). */
export type SlotValue = { readonly counter: number } | { readonly encoded: Uint8Array };

/**
 * The slots of a map's memory. Every read takes its bytes out of shared memory first (a copy) and checks
 * the lengths against the map's shape, so memory another process scribbled over yields a clear
 * `ERR_IPC_PROTOCOL`, never an out-of-bounds read nor bytes that change while they are decoded.
 */
export class MapSlots {
  readonly #words: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #slotBytes: number;
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
  readonly capacity: number;

  constructor(buffer: ArrayBuffer, capacity: number, maxKeyBytes: number, maxValueBytes: number) {
    this.capacity = capacity;
    this.maxKeyBytes = maxKeyBytes;
    this.maxValueBytes = maxValueBytes;
    this.#slotBytes = slotSize(maxKeyBytes, maxValueBytes);
    this.#words = new Int32Array(buffer, 0, buffer.byteLength >>> 2);
    this.#bytes = new Uint8Array(buffer);
    this.#view = new DataView(buffer);
  }

  state(slot: number): number {
    return Atomics.load(this.#words, (this.#offset(slot) + STATE) >>> 2);
  }

  setState(slot: number, state: number): void {
    Atomics.store(this.#words, (this.#offset(slot) + STATE) >>> 2, state);
  }

  /** True when the slot holds exactly `key` (whose hash is `hash`). */
  holds(slot: number, hash: number, key: Uint8Array): boolean {
    const at = this.#offset(slot);
    if (
      this.#view.getInt32(at + HASH, true) !== hash ||
      this.#view.getInt32(at + KEY_LENGTH, true) !== key.byteLength
    )
      return false;
    const start = at + SLOT_HEADER_BYTES;
    for (let i = 0; i < key.byteLength; i += 1) if (this.#bytes[start + i] !== key[i]) return false;
    return true;
  }

  /** A copy of the slot's key bytes. @throws `ERR_IPC_PROTOCOL` for an impossible length */
  key(slot: number): Uint8Array {
    const at = this.#offset(slot);
    const length = this.#view.getInt32(at + KEY_LENGTH, true);
    if (length < 0 || length > this.maxKeyBytes) throw scribbled(slot, `a key of ${length} bytes`);
    return this.#bytes.slice(at + SLOT_HEADER_BYTES, at + SLOT_HEADER_BYTES + length);
  }

  /** The slot's counter or a copy of its encoded value. @throws `ERR_IPC_PROTOCOL` for an impossible length */
  value(slot: number): SlotValue {
    const at = this.#offset(slot);
    const length = this.#view.getInt32(at + VALUE_LENGTH, true);
    if (length === COUNTER_LENGTH) return { counter: this.#view.getFloat64(at + COUNTER_VALUE, true) };
    if (length < 0 || length > this.maxValueBytes) throw scribbled(slot, `a value of ${length} bytes`);
    const start = at + SLOT_HEADER_BYTES + this.maxKeyBytes;
    return { encoded: this.#bytes.slice(start, start + length) };
  }

  /** Adds `delta` to the slot's counter; returns the new value. */
  addToCounter(slot: number, delta: number): number {
    const at = this.#offset(slot) + COUNTER_VALUE;
    const next = this.#view.getFloat64(at, true) + delta;
    this.#view.setFloat64(at, next, true);
    return next;
  }

  /** Writes a whole entry (the caller marks the slot WRITING first and USED after). */
  write(slot: number, hash: number, key: Uint8Array, value: SlotValue): void {
    const at = this.#offset(slot);
    const view = this.#view;
    view.setInt32(at + HASH, hash, true);
    view.setInt32(at + KEY_LENGTH, key.byteLength, true);
    const counter = "counter" in value;
    view.setInt32(at + VALUE_LENGTH, counter ? COUNTER_LENGTH : value.encoded.byteLength, true);
    view.setFloat64(at + COUNTER_VALUE, counter ? value.counter : 0, true);
    this.#bytes.set(key, at + SLOT_HEADER_BYTES);
    if (!counter) this.#bytes.set(value.encoded, at + SLOT_HEADER_BYTES + this.maxKeyBytes);
  }

  #offset(slot: number): number {
    return MAP_HEADER_BYTES + slot * this.#slotBytes;
  }
}

function scribbled(slot: number, what: string): IpcError {
  return new IpcError(
    IpcErrorCode.PROTOCOL,
    `slot ${slot} of the shared map claims ${what}, more than the map allows: its memory was overwritten by something that is not an @ipc/shm map`,
  );
}
