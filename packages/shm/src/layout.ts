import { IpcError, IpcErrorCode } from "@ipc/core";
import { SharedEvent } from "./event.js";
import { SharedLock } from "./lock.js";
import { SharedSemaphore } from "./semaphore.js";
import { type ScalarType, SharedValue, scalarSize, sharedArray, type TypedArrayOf } from "./value.js";

/** One field of a {@link defineLayout}: a value, an array `[type, length]`, or a lock, semaphore or event. */
export type FieldSpec = ScalarType | readonly [ScalarType, number] | "lock" | "semaphore" | "event";

/** What a field of spec `F` is once bound to memory. */
export type BoundField<F extends FieldSpec> = F extends "lock"
  ? SharedLock
  : F extends "semaphore"
    ? SharedSemaphore
    : F extends "event"
      ? SharedEvent
      : F extends readonly [infer K extends ScalarType, number]
        ? TypedArrayOf<K>
        : F extends ScalarType
          ? SharedValue<F>
          : never;

/** Fields of a layout bound to a segment: each process that binds the same layout sees the same memory. */
export type BoundLayout<S extends Record<string, FieldSpec>> = { readonly [K in keyof S]: BoundField<S[K]> };

/** A fixed arrangement of shared values, arrays and primitives in memory. */
export interface SharedLayout<S extends Record<string, FieldSpec>> {
  /** Bytes the layout takes: the size to give `createSegment`. */
  readonly byteLength: number;
  /** Byte offset of each field (each a multiple of 8). */
  readonly offsets: { readonly [K in keyof S]: number };
  /** The fields over `memory` (a segment or its buffer) from `byteOffset` (a multiple of 8). */
  bind(memory: ArrayBuffer | { readonly buffer: ArrayBuffer }, byteOffset?: number): BoundLayout<S>;
}

const PRIMITIVES = { lock: SharedLock, semaphore: SharedSemaphore, event: SharedEvent } as const;

/**
 * Lays out named fields one after another in declaration order, each 8-byte aligned, so every process
 * that defines the same layout finds each field at the same offset. All-zero memory (a new segment) is
 * valid: values 0, locks unlocked, semaphores at 0, events clear.
 */
export function defineLayout<const S extends Record<string, FieldSpec>>(fields: S): SharedLayout<S> {
  const offsets: Record<string, number> = {};
  let end = 0;
  for (const [name, spec] of Object.entries(fields)) {
    offsets[name] = end;
    end += align8(fieldSize(name, spec));
  }
  const byteLength = Math.max(end, 8);
  return {
    byteLength,
    offsets: offsets as SharedLayout<S>["offsets"],
    bind(memory, byteOffset = 0) {
      const buffer = memory instanceof ArrayBuffer ? memory : memory.buffer;
      if (byteOffset % 8 !== 0 || byteOffset + byteLength > buffer.byteLength) {
        throw new IpcError(
          IpcErrorCode.INVALID_ARGUMENT,
          `the layout needs ${byteLength} bytes at an offset that is a multiple of 8; offset ${byteOffset} of ${buffer.byteLength} bytes does not fit`,
        );
      }
      const bound: Record<string, unknown> = {};
      for (const [name, spec] of Object.entries(fields)) {
        const at = byteOffset + offsets[name]!;
        if (typeof spec === "string" && spec in PRIMITIVES) {
          bound[name] = new PRIMITIVES[spec as keyof typeof PRIMITIVES](buffer, at);
        } else if (Array.isArray(spec)) {
          bound[name] = sharedArray(buffer, at, spec[0], spec[1]);
        } else {
          bound[name] = new SharedValue(buffer, at, spec as ScalarType);
        }
      }
      return Object.freeze(bound) as BoundLayout<S>;
    },
  };
}

function fieldSize(name: string, spec: FieldSpec): number {
  if (typeof spec === "string" && spec in PRIMITIVES)
    return PRIMITIVES[spec as keyof typeof PRIMITIVES].byteLength;
  if (Array.isArray(spec)) {
    const [type, length] = spec;
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new IpcError(
        IpcErrorCode.INVALID_ARGUMENT,
        `field ${name}: an array length must be a non-negative integer`,
      );
    }
    return scalarSize(type) * length;
  }
  return scalarSize(spec as ScalarType);
}

function align8(bytes: number): number {
  return Math.ceil(bytes / 8) * 8;
}
