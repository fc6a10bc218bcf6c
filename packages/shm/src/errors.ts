/** Error codes of @ipc/shm, beside @ipc/core's. */
export const ShmErrorCode = {
  /** The native addon could not be loaded; the message lists every path tried and why. */
  NATIVE_UNAVAILABLE: "ERR_IPC_SHM_NATIVE_UNAVAILABLE",
  /** A segment name that POSIX does not allow (empty, too long, or with a "/" inside). */
  NAME: "ERR_IPC_SHM_NAME",
  /** `createSegment` found a segment with that name already. */
  EXISTS: "ERR_IPC_SHM_EXISTS",
  /** No segment has that name. */
  NOT_FOUND: "ERR_IPC_SHM_NOT_FOUND",
  /** The segment belongs to another user, or its mode does not allow this one. */
  PERMISSION: "ERR_IPC_SHM_PERMISSION",
  /** Not enough room in /dev/shm for the size asked (ENOSPC at creation, never SIGBUS later). */
  NO_SPACE: "ERR_IPC_SHM_NO_SPACE",
  /** A `SharedLock` was released by a process that no longer held it (its memory was overwritten). */
  LOCK_NOT_HELD: "ERR_IPC_SHM_LOCK_NOT_HELD",
  /** A shared-memory channel already has both ends attached. */
  CHANNEL_IN_USE: "ERR_IPC_SHM_CHANNEL_IN_USE",
  /** A shared map has no free entry left for a new key. */
  MAP_FULL: "ERR_IPC_SHM_MAP_FULL",
} as const;

/** A code defined by @ipc/shm. */
export type ShmErrorCode = (typeof ShmErrorCode)[keyof typeof ShmErrorCode];
