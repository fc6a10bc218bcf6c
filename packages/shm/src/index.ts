import { registerReviver } from "@ipc/core/transport";
import { revive } from "./revive.js";

// A child process rebuilds this package's objects its parent handed it (`Process` args in @ipc/pipe).
// Here, in the entry point, so that no bundler drops it as a side effect.
registerReviver("@ipc/shm", revive);

export { ShmErrorCode } from "./errors.js";
export { SharedEvent } from "./event.js";
export type { FutexWaitResult } from "./futex.js";
export { futexNotify, futexWait, futexWaitAsync } from "./futex.js";
export type { BoundField, BoundLayout, FieldSpec, SharedLayout } from "./layout.js";
export { defineLayout } from "./layout.js";
export type { LockGuard } from "./lock.js";
export { SharedLock } from "./lock.js";
export type { SharedMapShape } from "./map-format.js";
export {
  DEFAULT_MAP_CAPACITY,
  DEFAULT_MAX_KEY_BYTES,
  DEFAULT_MAX_VALUE_BYTES,
  sharedMapSize,
} from "./map-format.js";
export type { CreateShmChannelOptions, OpenShmChannelOptions } from "./open-channel.js";
export { createShmChannel, DEFAULT_RING_CAPACITY_BYTES, openShmChannel } from "./open-channel.js";
export type { CreateSharedMapOptions, OpenSharedMapOptions } from "./open-map.js";
export { createSharedMap, openSharedMap } from "./open-map.js";
export { uniqueSegmentName, unlinkOrphanedSegments } from "./orphans.js";
export type { CreateSegmentOptions, Segment, SegmentAddress, UnlinkPolicy } from "./segment.js";
export {
  createSegment,
  DEFAULT_SEGMENT_MODE,
  MAX_SEGMENT_NAME_BYTES,
  openSegment,
  unlinkSegment,
} from "./segment.js";
export { SharedSemaphore } from "./semaphore.js";
export type { SharedMap, SharedMapOptions } from "./shared-map.js";
export type { ShmChannel, ShmChannelOptions } from "./shm-channel.js";
export { DEFAULT_SPIN_MS } from "./shm-channel.js";
export type { ScalarOf, ScalarType, TypedArrayOf } from "./value.js";
export { SharedValue, scalarSize, sharedArray } from "./value.js";
