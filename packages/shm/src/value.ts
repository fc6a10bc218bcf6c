import { IpcError, IpcErrorCode } from "@ipc/core";
import { describeShared, type SharedDescription } from "@ipc/core/transport";
import { describeInSegment } from "./shared-segments.js";

/** Element types of shared values and arrays (Python's typecodes "b", "B", "h", "H", "i", "I", "q", "Q", "f", "d"). */
export type ScalarType =
  | "int8"
  | "uint8"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "bigint64"
  | "biguint64"
  | "float32"
  | "float64";

/** The JS type a {@link ScalarType} reads as. */
export type ScalarOf<K extends ScalarType> = K extends "bigint64" | "biguint64" ? bigint : number;

/** The typed array over elements of a {@link ScalarType}. */
export type TypedArrayOf<K extends ScalarType> = {
  int8: Int8Array;
  uint8: Uint8Array;
  int16: Int16Array;
  uint16: Uint16Array;
  int32: Int32Array;
  uint32: Uint32Array;
  bigint64: BigInt64Array;
  biguint64: BigUint64Array;
  float32: Float32Array;
  float64: Float64Array;
}[K];

const ARRAY_TYPES = {
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  bigint64: BigInt64Array,
  biguint64: BigUint64Array,
  float32: Float32Array,
  float64: Float64Array,
} as const;

/** Bytes one element of `type` takes. */
export function scalarSize(type: ScalarType): number {
  return arrayType(type).BYTES_PER_ELEMENT;
}

/** A typed array of `length` elements of `type` at `byteOffset` of shared memory (Python's `Array`). */
export function sharedArray<K extends ScalarType>(
  buffer: ArrayBuffer,
  byteOffset: number,
  type: K,
  length: number,
): TypedArrayOf<K> {
  const Type = arrayType(type);
  if (!Number.isSafeInteger(byteOffset) || byteOffset < 0 || byteOffset % Type.BYTES_PER_ELEMENT !== 0) {
    throw new IpcError(
      IpcErrorCode.INVALID_ARGUMENT,
      `a ${type} array needs a byteOffset that is a multiple of ${Type.BYTES_PER_ELEMENT}, got ${String(byteOffset)}`,
    );
  }
  if (
    !Number.isSafeInteger(length) ||
    length < 0 ||
    byteOffset + length * Type.BYTES_PER_ELEMENT > buffer.byteLength
  ) {
    throw new IpcError(
      IpcErrorCode.INVALID_ARGUMENT,
      `${String(length)} ${type} elements at offset ${byteOffset} do not fit in ${buffer.byteLength} bytes`,
    );
  }
  return new Type(buffer, byteOffset, length) as TypedArrayOf<K>;
}

/**
 * One number in shared memory (Python's `Value`), read and updated atomically across processes: integers
 * with `Atomics`, floats with a compare-and-swap loop on their bits. Updates return the value before.
 */
export class SharedValue<K extends ScalarType> {
  readonly type: K;
  readonly #cell: TypedArrayOf<K>;
  // Integer alias of the same bytes, for atomic floats; the cell itself for integer types.
  readonly #bits: Int32Array | BigInt64Array | undefined;
  readonly #scratch: TypedArrayOf<K> | undefined;
  readonly #scratchBits: Int32Array | BigInt64Array | undefined;

  /** The value of `type` at `byteOffset` (a multiple of its size) of a segment's buffer. */
  constructor(buffer: ArrayBuffer, byteOffset: number, type: K) {
    this.type = type;
    this.#cell = sharedArray(buffer, byteOffset, type, 1);
    if (type === "float64" || type === "float32") {
      const Bits = type === "float64" ? BigInt64Array : Int32Array;
      this.#bits = new Bits(buffer, byteOffset, 1);
      const scratch = new ArrayBuffer(8);
      this.#scratch = new (arrayType(type))(scratch, 0, 1) as TypedArrayOf<K>;
      this.#scratchBits = new Bits(scratch, 0, 1);
    }
  }

  /** The current value (an atomic load). */
  get value(): ScalarOf<K> {
    if (this.#bits === undefined) return Atomics.load(this.#cell as Int32Array, 0) as ScalarOf<K>;
    return this.#fromBits(Atomics.load(this.#bits as Int32Array, 0));
  }

  /** Stores `value` atomically. */
  set value(value: ScalarOf<K>) {
    if (this.#bits === undefined) Atomics.store(this.#cell as Int32Array, 0, value as number);
    else Atomics.store(this.#bits as Int32Array, 0, this.#toBits(value) as number);
  }

  /** Adds `delta` atomically; returns the value before. */
  add(delta: ScalarOf<K>): ScalarOf<K> {
    if (this.#bits === undefined)
      return Atomics.add(this.#cell as Int32Array, 0, delta as number) as ScalarOf<K>;
    return this.#update((current) => ((current as number) + (delta as number)) as ScalarOf<K>);
  }

  /** Subtracts `delta` atomically; returns the value before. */
  sub(delta: ScalarOf<K>): ScalarOf<K> {
    if (this.#bits === undefined)
      return Atomics.sub(this.#cell as Int32Array, 0, delta as number) as ScalarOf<K>;
    return this.#update((current) => ((current as number) - (delta as number)) as ScalarOf<K>);
  }

  /** Stores `value` atomically; returns the value before. */
  exchange(value: ScalarOf<K>): ScalarOf<K> {
    if (this.#bits === undefined)
      return Atomics.exchange(this.#cell as Int32Array, 0, value as number) as ScalarOf<K>;
    return this.#update(() => value);
  }

  /** Stores `replacement` if the value is `expected` (floats compare bit for bit); returns the value before. */
  compareExchange(expected: ScalarOf<K>, replacement: ScalarOf<K>): ScalarOf<K> {
    if (this.#bits === undefined) {
      return Atomics.compareExchange(
        this.#cell as Int32Array,
        0,
        expected as number,
        replacement as number,
      ) as ScalarOf<K>;
    }
    const before = Atomics.compareExchange(
      this.#bits as Int32Array,
      0,
      this.#toBits(expected) as number,
      this.#toBits(replacement) as number,
    );
    return this.#fromBits(before);
  }

  #update(next: (current: ScalarOf<K>) => ScalarOf<K>): ScalarOf<K> {
    const bits = this.#bits as Int32Array;
    for (;;) {
      const before = Atomics.load(bits, 0);
      const current = this.#fromBits(before);
      if (Atomics.compareExchange(bits, 0, before, this.#toBits(next(current)) as number) === before)
        return current;
    }
  }

  #fromBits(bits: number | bigint): ScalarOf<K> {
    (this.#scratchBits as Int32Array)[0] = bits as number;
    return this.#scratch![0] as ScalarOf<K>;
  }

  #toBits(value: ScalarOf<K>): number | bigint {
    (this.#scratch as Float64Array)[0] = value as number;
    return this.#scratchBits![0]!;
  }

  /** How a child process maps the same value (`Process` args in @ipc/pipe). @internal */
  [describeShared](): SharedDescription {
    const cell = this.#cell;
    return describeInSegment(cell.buffer as ArrayBuffer, "value", {
      byteOffset: cell.byteOffset,
      type: this.type,
    });
  }
}

function arrayType(type: ScalarType) {
  const Type = ARRAY_TYPES[type];
  if (Type === undefined) {
    throw new IpcError(
      IpcErrorCode.INVALID_ARGUMENT,
      `unknown element type ${JSON.stringify(type)}; use one of ${Object.keys(ARRAY_TYPES).join(", ")}`,
    );
  }
  return Type;
}
