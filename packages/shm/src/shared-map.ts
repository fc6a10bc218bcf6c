import { type Codec, IpcError, IpcErrorCode, json } from "@ipc/core";
import { decodeWith, describeShared, encodeWith, type SharedDescription } from "@ipc/core/transport";
import { ShmErrorCode } from "./errors.js";
import { type LockGuard, SharedLock } from "./lock.js";
import { checkShape, MAP_SEGMENT } from "./map-format.js";
import {
  COUNT_WORD,
  DELETED,
  EMPTY,
  LOCK_OFFSET,
  MAP_HEADER_BYTES,
  MapSlots,
  type SlotValue,
  USED,
  WRITING,
} from "./map-slots.js";
import type { Segment } from "./segment.js";
import { notOfKind, readSegmentHeader } from "./segment-header.js";
import { describeByAddress } from "./shared-segments.js";

/** Milliseconds an operation waits for the map's lock before `ERR_IPC_TIMEOUT`. */
const LOCK_TIMEOUT_MS = 10_000;

/** Options of every process's view of a shared map. */
export interface SharedMapOptions<V> {
  /** How values are stored; every process must use the same. @default json */
  codec?: Codec<V> | undefined;
}

/**
 * A string-keyed map in shared memory that any number of processes read and update (Python's
 * `Manager().dict()` for the common case, without a server process): values encoded by a codec, and
 * counters updated atomically. Every operation holds the map's `SharedLock` for microseconds and blocks
 * rather than yields; a process that dies holding it loses at most the entry it was writing.
 */
export interface SharedMap<V = unknown> extends Disposable {
  /** The name of a named map ("/name"), or undefined. */
  readonly name: string | undefined;
  /** The descriptor of an anonymous map, to hand to a child; undefined for a named one. */
  readonly fd: number | undefined;
  /** Entries it can hold. */
  readonly capacity: number;
  /** Entries it holds now. */
  readonly size: number;
  /** The value (or counter) stored under `key`, or undefined. */
  get(key: string): V | undefined;
  /** True when `key` has a value or counter. */
  has(key: string): boolean;
  /** Stores `value` under `key`. @throws `ERR_IPC_SHM_MAP_FULL`, `ERR_IPC_FRAME_TOO_LARGE` (value over maxValueBytes), `ERR_IPC_INVALID_ARGUMENT` (key too long) */
  set(key: string, value: V): this;
  /** Removes `key`; true if it was there. */
  delete(key: string): boolean;
  /** Adds `delta` to the counter under `key` (created at 0) and returns the new value, atomically across processes. */
  increment(key: string, delta?: number): number;
  /** Replaces the value under `key` with `update(current)`, atomically with respect to every other process. */
  update(key: string, update: (current: V | undefined) => V): V;
  /** A snapshot of every entry, taken under the lock. */
  entries(): [string, V][];
  /** The keys, as a snapshot. */
  keys(): string[];
  /** Unmaps the map from this process (other processes keep theirs); its creator also removes a name it owns. Idempotent. */
  close(): void;
}

/** The map stored in `segment` (see {@link SharedMap}). */
export class SharedMapStore<V = unknown> implements SharedMap<V> {
  readonly #segment: Segment;
  readonly #codec: Codec<V>;
  readonly #count: Int32Array;
  readonly #lock: SharedLock;
  readonly #slots: MapSlots;
  readonly #keyScratch: Uint8Array;
  readonly #release: () => void;

  /** `release` runs once, at close (the creator removes a name it owns there). @throws `ERR_IPC_PROTOCOL` when it is not a map */
  constructor(segment: Segment, options: SharedMapOptions<V> = {}, release: () => void = () => {}) {
    const [capacity, maxKeyBytes, maxValueBytes] = readSegmentHeader(segment, MAP_SEGMENT, 3) as [
      number,
      number,
      number,
    ];
    let shape: ReturnType<typeof checkShape>;
    try {
      shape = checkShape({ capacity, maxKeyBytes, maxValueBytes });
    } catch {
      throw notOfKind(segment, MAP_SEGMENT, "its header claims an impossible shape");
    }
    if (segment.size < MAP_HEADER_BYTES + capacity * shape.slotBytes) {
      throw notOfKind(segment, MAP_SEGMENT, `${segment.size} bytes cannot hold ${capacity} entries`);
    }
    this.#segment = segment;
    this.#codec = options.codec ?? (json as Codec<V>);
    this.#count = new Int32Array(segment.buffer, 0, MAP_HEADER_BYTES / 4);
    this.#lock = new SharedLock(segment.buffer, LOCK_OFFSET);
    this.#slots = new MapSlots(segment.buffer, capacity, maxKeyBytes, maxValueBytes);
    this.#keyScratch = new Uint8Array(maxKeyBytes);
    this.#release = release;
  }

  get name(): string | undefined {
    return this.#segment.name;
  }

  get fd(): number | undefined {
    return this.#segment.fd;
  }

  get capacity(): number {
    return this.#slots.capacity;
  }

  get size(): number {
    return Atomics.load(this.#count, COUNT_WORD);
  }

  get(key: string): V | undefined {
    return this.#locked(() => {
      const slot = this.#find(this.#encodeKey(key));
      return slot < 0 ? undefined : this.#read(slot);
    });
  }

  has(key: string): boolean {
    return this.#locked(() => this.#find(this.#encodeKey(key)) >= 0);
  }

  set(key: string, value: V): this {
    const encoded = this.#encodeValue(value);
    this.#locked(() => this.#write(this.#encodeKey(key), { encoded }));
    return this;
  }

  delete(key: string): boolean {
    return this.#locked(() => {
      const slot = this.#find(this.#encodeKey(key));
      if (slot < 0) return false;
      this.#slots.setState(slot, DELETED);
      Atomics.sub(this.#count, COUNT_WORD, 1);
      return true;
    });
  }

  increment(key: string, delta = 1): number {
    if (typeof delta !== "number" || Number.isNaN(delta)) {
      throw new IpcError(IpcErrorCode.INVALID_ARGUMENT, `increment takes a number, got ${String(delta)}`);
    }
    return this.#locked(() => {
      const encodedKey = this.#encodeKey(key);
      const slot = this.#find(encodedKey);
      if (slot < 0) {
        this.#write(encodedKey, { counter: delta });
        return delta;
      }
      if (!("counter" in this.#slots.value(slot))) {
        throw new IpcError(
          IpcErrorCode.INVALID_ARGUMENT,
          `"${key}" holds a value, not a counter; delete it or use another key`,
        );
      }
      return this.#slots.addToCounter(slot, delta);
    });
  }

  update(key: string, update: (current: V | undefined) => V): V {
    return this.#locked(() => {
      const encodedKey = this.#encodeKey(key);
      const slot = this.#find(encodedKey);
      const next = update(slot < 0 ? undefined : this.#read(slot));
      this.#write(encodedKey, { encoded: this.#encodeValue(next) });
      return next;
    });
  }

  entries(): [string, V][] {
    return this.#locked(() => {
      const out: [string, V][] = [];
      const decoder = new TextDecoder();
      for (let slot = 0; slot < this.#slots.capacity; slot += 1) {
        if (this.#slots.state(slot) !== USED) continue;
        // A private copy is decoded, never the shared bytes themselves.
        out.push([decoder.decode(this.#slots.key(slot)), this.#read(slot)]);
      }
      return out;
    });
  }

  keys(): string[] {
    return this.entries().map(([key]) => key);
  }

  close(): void {
    if (this.#segment.buffer.byteLength === 0) return;
    this.#release();
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
    for (let slot = 0; slot < this.#slots.capacity; slot += 1) {
      if (this.#slots.state(slot) === WRITING) this.#slots.setState(slot, DELETED);
      if (this.#slots.state(slot) === USED) count += 1;
    }
    Atomics.store(this.#count, COUNT_WORD, count);
  }

  #encodeKey(key: string): Uint8Array {
    if (typeof key !== "string") {
      throw new IpcError(IpcErrorCode.INVALID_ARGUMENT, `shared map keys are strings, got ${typeof key}`);
    }
    const { read, written } = new TextEncoder().encodeInto(key, this.#keyScratch);
    if (read !== key.length) {
      throw new IpcError(
        IpcErrorCode.INVALID_ARGUMENT,
        `the key "${key.slice(0, 20)}..." is longer than maxKeyBytes (${this.#slots.maxKeyBytes}) of this map`,
      );
    }
    return this.#keyScratch.subarray(0, written);
  }

  #encodeValue(value: V): Uint8Array {
    const encoded = encodeWith(this.#codec, value);
    if (encoded.byteLength > this.#slots.maxValueBytes) {
      throw new IpcError(
        IpcErrorCode.FRAME_TOO_LARGE,
        `the value is ${encoded.byteLength} bytes encoded, over maxValueBytes (${this.#slots.maxValueBytes}) of this map`,
      );
    }
    return encoded;
  }

  /** Slot holding `key`, or -1. */
  #find(key: Uint8Array): number {
    const hash = hashBytes(key);
    const { capacity } = this.#slots;
    for (let probe = 0, slot = hash % capacity; probe < capacity; probe += 1) {
      const state = this.#slots.state(slot);
      if (state === EMPTY) return -1;
      if (state === USED && this.#slots.holds(slot, hash, key)) return slot;
      slot = slot + 1 === capacity ? 0 : slot + 1;
    }
    return -1;
  }

  /** Stores `value` under `key`, in its slot or a free one. */
  #write(key: Uint8Array, value: SlotValue): void {
    const hash = hashBytes(key);
    const { capacity } = this.#slots;
    let target = -1;
    let existing = false;
    for (let probe = 0, slot = hash % capacity; probe < capacity; probe += 1) {
      const state = this.#slots.state(slot);
      if (state === USED && this.#slots.holds(slot, hash, key)) {
        target = slot;
        existing = true;
        break;
      }
      if (state !== USED && target < 0) target = slot;
      if (state === EMPTY) break;
      slot = slot + 1 === capacity ? 0 : slot + 1;
    }
    if (target < 0) {
      throw new IpcError(
        ShmErrorCode.MAP_FULL,
        `the shared map is full (${capacity} entries); create it with a larger capacity`,
      );
    }
    this.#slots.setState(target, WRITING);
    this.#slots.write(target, hash, key, value);
    this.#slots.setState(target, USED);
    if (!existing) Atomics.add(this.#count, COUNT_WORD, 1);
  }

  #read(slot: number): V {
    const value = this.#slots.value(slot);
    return "counter" in value ? (value.counter as V) : decodeWith(this.#codec, value.encoded);
  }

  /** How a child process opens the same map (`Process` args in @ipc/pipe). @internal */
  [describeShared](): SharedDescription {
    return describeByAddress(this.#segment, "map", { codec: this.#codec.name });
  }
}

/** FNV-1a, as a non-negative int32. */
function hashBytes(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.byteLength; i += 1) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  return hash >>> 1;
}

function closedError(): IpcError {
  return new IpcError(IpcErrorCode.CLOSED, "the shared map was closed in this process");
}
