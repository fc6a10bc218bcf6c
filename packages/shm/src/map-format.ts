import { IpcError, IpcErrorCode } from "@ipc/core";
import { MAP_HEADER_BYTES, slotSize } from "./map-slots.js";
import type { Segment } from "./segment.js";
import { type SegmentKind, writeSegmentHeader } from "./segment-header.js";

/** A shared map's segment (see docs/wire-format.md). */
export const MAP_SEGMENT: SegmentKind = {
  magic: 0x6970_636d, // "ipcm"
  version: 1,
  description: "an @ipc/shm shared map",
};

/** Entries a map holds unless `capacity` says otherwise. */
export const DEFAULT_MAP_CAPACITY = 1024;
/** Longest key in UTF-8 bytes unless `maxKeyBytes` says otherwise. */
export const DEFAULT_MAX_KEY_BYTES = 64;
/** Longest encoded value unless `maxValueBytes` says otherwise. */
export const DEFAULT_MAX_VALUE_BYTES = 256;
/** Limits of a map's shape. */
const SHAPE_LIMITS = { capacity: 2 ** 24, maxKeyBytes: 65_536, maxValueBytes: 2 ** 24 } as const;

/** The shape of a shared map, fixed when it is created. */
export interface SharedMapShape {
  /** Entries it can hold (counters included). @default 1024 */
  capacity?: number | undefined;
  /** Longest key, in UTF-8 bytes. @default 64 */
  maxKeyBytes?: number | undefined;
  /** Longest value once encoded by the codec, in bytes. @default 256 */
  maxValueBytes?: number | undefined;
}

/** Bytes of shared memory a map of `shape` needs. */
export function sharedMapSize(shape: SharedMapShape = {}): number {
  const { capacity, maxKeyBytes, maxValueBytes } = checkShape(shape);
  return MAP_HEADER_BYTES + capacity * slotSize(maxKeyBytes, maxValueBytes);
}

/** Writes an empty map's header into fresh (zeroed) memory. */
export function formatSharedMap(segment: Segment, shape: SharedMapShape = {}): void {
  const { capacity, maxKeyBytes, maxValueBytes } = checkShape(shape);
  writeSegmentHeader(segment, MAP_SEGMENT, [capacity, maxKeyBytes, maxValueBytes]);
}

/** The shape with defaults filled in. @throws `ERR_IPC_INVALID_ARGUMENT` for a value out of its range */
export function checkShape(shape: SharedMapShape) {
  const capacity = shape.capacity ?? DEFAULT_MAP_CAPACITY;
  const maxKeyBytes = shape.maxKeyBytes ?? DEFAULT_MAX_KEY_BYTES;
  const maxValueBytes = shape.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
  for (const [name, value] of [
    ["capacity", capacity],
    ["maxKeyBytes", maxKeyBytes],
    ["maxValueBytes", maxValueBytes],
  ] as const) {
    const max = SHAPE_LIMITS[name];
    if (!Number.isSafeInteger(value) || value < 1 || value > max) {
      throw new IpcError(
        IpcErrorCode.INVALID_ARGUMENT,
        `${name} must be an integer from 1 to ${max}, got ${String(value)}`,
      );
    }
  }
  return { capacity, maxKeyBytes, maxValueBytes, slotBytes: slotSize(maxKeyBytes, maxValueBytes) };
}
