export type { ShmErrorCodeString } from "./errors.js";
export { ShmErrorCode } from "./errors.js";
export { SharedEvent } from "./event.js";
export type { FutexWaitResult } from "./futex.js";
export { futexNotify, futexWait, futexWaitAsync } from "./futex.js";
export type { BoundField, BoundLayout, FieldSpec, SharedLayout } from "./layout.js";
export { defineLayout } from "./layout.js";
export type { LockGuard } from "./lock.js";
export { SharedLock } from "./lock.js";
export type { CreateShmChannelOptions } from "./open-channel.js";
export { createShmChannel, openShmChannel } from "./open-channel.js";
export type { CreateSharedMapOptions } from "./open-map.js";
export { createSharedMap, openSharedMap } from "./open-map.js";
export { removeOrphanedSegments, uniqueSegmentName } from "./orphans.js";
export type { AnonymousSegment, CreateSegmentOptions, Segment, SegmentAddress } from "./segment.js";
export {
  createAnonymousSegment,
  createSegment,
  DEFAULT_SEGMENT_MODE,
  MAX_SEGMENT_NAME_BYTES,
  openSegment,
  openSegmentAt,
  openSegmentFd,
  segmentName,
  unlinkSegment,
} from "./segment.js";
export { SharedSemaphore } from "./semaphore.js";
export type { SharedMapOptions, SharedMapShape } from "./shared-map.js";
export {
  DEFAULT_MAP_CAPACITY,
  DEFAULT_MAX_KEY_BYTES,
  DEFAULT_MAX_VALUE_BYTES,
  SharedMap,
  sharedMapSize,
} from "./shared-map.js";
export type { ShmChannelOptions } from "./shm-channel.js";
export { DEFAULT_RING_CAPACITY_BYTES, DEFAULT_SPIN_MICROSECONDS, ShmChannel } from "./shm-channel.js";
export type { ScalarOf, ScalarType, TypedArrayOf } from "./value.js";
export { SharedValue, scalarSize, sharedArray } from "./value.js";
