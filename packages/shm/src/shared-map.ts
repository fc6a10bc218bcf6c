import { type Codec, IpcError, IpcErrorCode, json } from "@ipc/core";
import { decodeWith, encodeWith } from "@ipc/core/transport";
import { ShmErrorCode } from "./errors.js";
import { type LockGuard, SharedLock } from "./lock.js";
import type { AnonymousSegment, Segment } from "./segment.js";

const MAGIC = 0x6970_636d; // "ipcm"
const VERSION = 1;
const HEADER_BYTES = 64;
// Header words.
const H_MAGIC = 0;
const H_VERSION = 1;
const H_CAPACITY = 2;
const H_MAX_KEY = 3;
const H_MAX_VALUE = 4;
const H_COUNT = 5;
const LOCK_OFFSET = 32;
// Slot: int32 state, hash, key length, value length (COUNTER for a counter), float64 counter, key, value.
const SLOT_HEADER_BYTES = 24;
const EMPTY = 0;
const USED = 1;
const DELETED = 2;
/** A slot being written: a holder that dies leaves this, and the next locker drops the entry. */
const WRITING = 3;
const COUNTER = -1;

/** Entries a map holds unless `capacity` says otherwise. */
export const DEFAULT_MAP_CAPACITY = 1024;
/** Longest key in UTF-8 bytes unless `maxKeyBytes` says otherwise. */
export const DEFAULT_MAX_KEY_BYTES = 64;
/** Longest encoded value unless `maxValueBytes` says otherwise. */
export const DEFAULT_MAX_VALUE_BYTES = 256;
/** Milliseconds an operation waits for the map's lock before `ERR_IPC_TIMEOUT`. */
const LOCK_TIMEOUT_MS = 10_000;

/** The shape of a shared map, fixed when it is created. */
export interface SharedMapShape {
  /** Entries it can hold (counters included). @default 1024 */
  capacity?: number;
  /** Longest key, in UTF-8 bytes. @default 64 */
  maxKeyBytes?: number;
  /** Longest value once encoded by the codec, in bytes. @default 256 */
  maxValueBytes?: number;
}

/** Options of every process's view of a shared map. */
export interface SharedMapOptions<V> {
  /** How values are stored; every process must use the same. @default json */
  codec?: Codec<V>;
}

/** Bytes of shared memory a map of `shape` needs. */
export function sharedMapSize(shape: SharedMapShape = {}): number {
  const { capacity, slotBytes } = checkShape(shape);
  return HEADER_BYTES + capacity * slotBytes;
}

/** Writes an empty map's header into fresh (zeroed) memory. */
export function formatSharedMap(buffer: ArrayBuffer, shape: SharedMapShape = {}): void {
  const { capacity, maxKeyBytes, maxValueBytes } = checkShape(shape);
  const header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
  header[H_CAPACITY] = capacity;
  header[H_MAX_KEY] = maxKeyBytes;
  header[H_MAX_VALUE] = maxValueBytes;
  header[H_VERSION] = VERSION;
  Atomics.store(header, H_MAGIC, MAGIC);
}

/**
 * A string-keyed map in shared memory that any number of processes read and update (Python's
 * `Manager().dict()` for the common case, without a server process): values encoded by a codec, and
 * counters updated atomically. Every operation holds a {@link SharedLock} for microseconds and blocks
 * rather than yields; a process that dies holding it loses at most the entry it was writing. Fixed
 * capacity and key/value sizes, chosen at creation.
 */
export class SharedMap<V = unknown> implements Disposable {
  readonly #segment: Segment;
  readonly #codec: Codec<V>;
  readonly #header: Int32Array;
  readonly #words: Int32Array;
  readonly #lock: SharedLock;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #capacity: number;
  readonly #maxKeyBytes: number;
  readonly #maxValueBytes: number;
  readonly #slotBytes: number;
  readonly #keyScratch: Uint8Array;

  /** @internal Use `createSharedMap` / `openSharedMap`. */
  constructor(segment: Segment, options: SharedMapOptions<V> = {}) {
    const header = new Int32Array(segment.buffer, 0, HEADER_BYTES / 4);
    if (Atomics.load(header, H_MAGIC) !== MAGIC || header[H_VERSION] !== VERSION) {
      throw new IpcError(
        IpcErrorCode.PROTOCOL,
        `${segment.name} is not an @ipc/shm shared map (version ${VERSION}); check the name`,
      );
    }
    this.#segment = segment;
    this.#codec = options.codec ?? (json as Codec<V>);
    this.#header = header;
    this.#capacity = header[H_CAPACITY]!;
    this.#maxKeyBytes = header[H_MAX_KEY]!;
    this.#maxValueBytes = header[H_MAX_VALUE]!;
    this.#slotBytes = slotSize(this.#maxKeyBytes, this.#maxValueBytes);
    if (segment.size < HEADER_BYTES + this.#capacity * this.#slotBytes) {
      throw new IpcError(IpcErrorCode.PROTOCOL, `${segment.name} is smaller than its map header says`);
    }
    this.#lock = new SharedLock(segment.buffer, LOCK_OFFSET);
    this.#bytes = new Uint8Array(segment.buffer);
    this.#words = new Int32Array(segment.buffer, 0, segment.size >>> 2);
    this.#view = new DataView(segment.buffer);
    this.#keyScratch = new Uint8Array(this.#maxKeyBytes);
  }

  /** The segment holding the map (its name, or `fd` for an anonymous one). */
  get segment(): Segment {
    return this.#segment;
  }

  /** The descriptor of an anonymous map, to hand to a child; undefined for a named one. */
  get fd(): number | undefined {
    return (this.#segment as Partial<AnonymousSegment>).fd;
  }

  /** Entries it can hold. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Entries it holds now. */
  get size(): number {
    return Atomics.load(this.#header, H_COUNT);
  }

  /** The value (or counter) stored under `key`, or undefined. */
  get(key: string): V | undefined {
    return this.#locked(() => {
      const slot = this.#find(this.#encodeKey(key));
      return slot < 0 ? undefined : this.#read(slot);
    });
  }

  /** True when `key` has a value or counter. */
  has(key: string): boolean {
    return this.#locked(() => this.#find(this.#encodeKey(key)) >= 0);
  }

  /** Stores `value` under `key`. @throws `ERR_IPC_SHM_MAP_FULL`, `ERR_IPC_FRAME_TOO_LARGE` (value over maxValueBytes), `ERR_IPC_INVALID_ARGUMENT` (key too long) */
  set(key: string, value: V): this {
    const encoded = this.#encodeValue(value);
    this.#locked(() => this.#write(this.#encodeKey(key), encoded, 0));
    return this;
  }

  /** Removes `key`; true if it was there. */
  delete(key: string): boolean {
    return this.#locked(() => {
      const slot = this.#find(this.#encodeKey(key));
      if (slot < 0) return false;
      Atomics.store(this.#words, this.#state(slot), DELETED);
      Atomics.sub(this.#header, H_COUNT, 1);
      return true;
    });
  }

  /** Adds `delta` to the counter under `key` (created at 0) and returns the new value, atomically across processes. */
  increment(key: string, delta = 1): number {
    if (typeof delta !== "number" || Number.isNaN(delta)) {
      throw new IpcError(IpcErrorCode.INVALID_ARGUMENT, `increment takes a number, got ${String(delta)}`);
    }
    return this.#locked(() => {
      const encodedKey = this.#encodeKey(key);
      const slot = this.#find(encodedKey);
      if (slot >= 0 && this.#valueLength(slot) === COUNTER) {
        const at = this.#slotOffset(slot) + 16;
        const next = this.#view.getFloat64(at, true) + delta;
        this.#view.setFloat64(at, next, true);
        return next;
      }
      if (slot >= 0) {
        throw new IpcError(
          IpcErrorCode.INVALID_ARGUMENT,
          `"${key}" holds a value, not a counter; delete it or use another key`,
        );
      }
      this.#write(encodedKey, undefined, delta);
      return delta;
    });
  }

  /** Replaces the value under `key` with `update(current)`, atomically with respect to every other process. */
  update(key: string, update: (current: V | undefined) => V): V {
    return this.#locked(() => {
      const encodedKey = this.#encodeKey(key);
      const slot = this.#find(encodedKey);
      const next = update(slot < 0 ? undefined : this.#read(slot));
      this.#write(encodedKey, this.#encodeValue(next), 0);
      return next;
    });
  }

  /** A snapshot of every entry, taken under the lock. */
  entries(): [string, V][] {
    return this.#locked(() => {
      const out: [string, V][] = [];
      const decoder = new TextDecoder();
      for (let slot = 0; slot < this.#capacity; slot += 1) {
        if (Atomics.load(this.#words, this.#state(slot)) !== USED) continue;
        const at = this.#slotOffset(slot);
        const keyLength = this.#view.getInt32(at + 8, true);
        out.push([
          decoder.decode(this.#bytes.subarray(at + SLOT_HEADER_BYTES, at + SLOT_HEADER_BYTES + keyLength)),
          this.#read(slot),
        ]);
      }
      return out;
    });
  }

  /** The keys, as a snapshot. */
  keys(): string[] {
    return this.entries().map(([key]) => key);
  }

  /** Unmaps the map from this process; other processes keep theirs. Idempotent. */
  close(): void {
    this.#segment.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #locked<R>(body: () => R): R {
    let guard: LockGuard;
    try {
      guard = this.#lock.lockSync({ timeout: LOCK_TIMEOUT_MS });
    } catch (error) {
      if (this.#segment.buffer.byteLength === 0) throw closedError();
      throw error;
    }
    try {
      if (guard.previousOwnerDied) this.#repair();
      return body();
    } finally {
      guard.unlock();
    }
  }

  /** After a holder died: drops the entry it was writing and recounts. */
  #repair(): void {
    let count = 0;
    for (let slot = 0; slot < this.#capacity; slot += 1) {
      const state = this.#state(slot);
      if (Atomics.load(this.#words, state) === WRITING) Atomics.store(this.#words, state, DELETED);
      if (Atomics.load(this.#words, state) === USED) count += 1;
    }
    Atomics.store(this.#header, H_COUNT, count);
  }

  #encodeKey(key: string): Uint8Array {
    if (typeof key !== "string") {
      throw new IpcError(IpcErrorCode.INVALID_ARGUMENT, `shared map keys are strings, got ${typeof key}`);
    }
    const { read, written } = new TextEncoder().encodeInto(key, this.#keyScratch);
    if (read !== key.length) {
      throw new IpcError(
        IpcErrorCode.INVALID_ARGUMENT,
        `the key "${key.slice(0, 20)}..." is longer than maxKeyBytes (${this.#maxKeyBytes}) of this map`,
      );
    }
    return this.#keyScratch.subarray(0, written);
  }

  #encodeValue(value: V): Uint8Array {
    const encoded = encodeWith(this.#codec, value);
    if (encoded.byteLength > this.#maxValueBytes) {
      throw new IpcError(
        IpcErrorCode.FRAME_TOO_LARGE,
        `the value is ${encoded.byteLength} bytes encoded, over maxValueBytes (${this.#maxValueBytes}) of this map`,
      );
    }
    return encoded;
  }

  /** Slot holding `key`, or -1. */
  #find(key: Uint8Array): number {
    const hash = hashBytes(key);
    for (let probe = 0, slot = hash % this.#capacity; probe < this.#capacity; probe += 1) {
      const state = Atomics.load(this.#words, this.#state(slot));
      if (state === EMPTY) return -1;
      if (state === USED && this.#keyIs(slot, hash, key)) return slot;
      slot = slot + 1 === this.#capacity ? 0 : slot + 1;
    }
    return -1;
  }

  /** Stores a value (or, with `value` undefined, a counter at `counter`) under `key`, in its slot or a free one. */
  #write(key: Uint8Array, value: Uint8Array | undefined, counter: number): void {
    const hash = hashBytes(key);
    let target = -1;
    let existing = false;
    for (let probe = 0, slot = hash % this.#capacity; probe < this.#capacity; probe += 1) {
      const state = Atomics.load(this.#words, this.#state(slot));
      if (state === USED && this.#keyIs(slot, hash, key)) {
        target = slot;
        existing = true;
        break;
      }
      if (state !== USED && target < 0) target = slot;
      if (state === EMPTY) break;
      slot = slot + 1 === this.#capacity ? 0 : slot + 1;
    }
    if (target < 0) {
      throw new IpcError(
        ShmErrorCode.MAP_FULL,
        `the shared map is full (${this.#capacity} entries); create it with a larger capacity`,
      );
    }
    const state = this.#state(target);
    Atomics.store(this.#words, state, WRITING);
    const at = this.#slotOffset(target);
    const view = this.#view;
    view.setInt32(at + 4, hash, true);
    view.setInt32(at + 8, key.byteLength, true);
    view.setInt32(at + 12, value === undefined ? COUNTER : value.byteLength, true);
    view.setFloat64(at + 16, counter, true);
    this.#bytes.set(key, at + SLOT_HEADER_BYTES);
    if (value !== undefined) this.#bytes.set(value, at + SLOT_HEADER_BYTES + this.#maxKeyBytes);
    Atomics.store(this.#words, state, USED);
    if (!existing) Atomics.add(this.#header, H_COUNT, 1);
  }

  #read(slot: number): V {
    const at = this.#slotOffset(slot);
    const length = this.#valueLength(slot);
    if (length === COUNTER) return this.#view.getFloat64(at + 16, true) as V;
    const start = at + SLOT_HEADER_BYTES + this.#maxKeyBytes;
    return decodeWith(this.#codec, this.#bytes.slice(start, start + length));
  }

  #keyIs(slot: number, hash: number, key: Uint8Array): boolean {
    const at = this.#slotOffset(slot);
    if (this.#view.getInt32(at + 4, true) !== hash || this.#view.getInt32(at + 8, true) !== key.byteLength)
      return false;
    const start = at + SLOT_HEADER_BYTES;
    for (let i = 0; i < key.byteLength; i += 1) if (this.#bytes[start + i] !== key[i]) return false;
    return true;
  }

  #valueLength(slot: number): number {
    return this.#view.getInt32(this.#slotOffset(slot) + 12, true);
  }

  #slotOffset(slot: number): number {
    return HEADER_BYTES + slot * this.#slotBytes;
  }

  /** Index in #words of a slot's state word. */
  #state(slot: number): number {
    return this.#slotOffset(slot) >>> 2;
  }
}

/** FNV-1a, as a non-negative int32. */
function hashBytes(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.byteLength; i += 1) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  return hash >>> 1;
}

function slotSize(maxKeyBytes: number, maxValueBytes: number): number {
  return Math.ceil((SLOT_HEADER_BYTES + maxKeyBytes + maxValueBytes) / 8) * 8;
}

function checkShape(shape: SharedMapShape) {
  const capacity = shape.capacity ?? DEFAULT_MAP_CAPACITY;
  const maxKeyBytes = shape.maxKeyBytes ?? DEFAULT_MAX_KEY_BYTES;
  const maxValueBytes = shape.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
  for (const [name, value, max] of [
    ["capacity", capacity, 2 ** 24],
    ["maxKeyBytes", maxKeyBytes, 65_536],
    ["maxValueBytes", maxValueBytes, 2 ** 24],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 1 || value > max) {
      throw new IpcError(
        IpcErrorCode.INVALID_ARGUMENT,
        `${name} must be an integer from 1 to ${max}, got ${String(value)}`,
      );
    }
  }
  return { capacity, maxKeyBytes, maxValueBytes, slotBytes: slotSize(maxKeyBytes, maxValueBytes) };
}

function closedError(): IpcError {
  return new IpcError(IpcErrorCode.CLOSED, "the shared map was closed in this process");
}
