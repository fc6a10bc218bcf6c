/** Error codes of @ipc/queue, beside @ipc/core's. */
export const QueueErrorCode = {
  /** `getNowait` (Python's `Empty`): no item is ready now. */
  EMPTY: "ERR_IPC_QUEUE_EMPTY",
  /** `putNowait` (Python's `Full`): the queue holds `maxsize` items, or has no room for this item's bytes now. */
  FULL: "ERR_IPC_QUEUE_FULL",
  /** An item larger than the queue's whole byte capacity: it could never be put. Nothing was written. */
  ITEM_TOO_LARGE: "ERR_IPC_QUEUE_ITEM_TOO_LARGE",
  /** `taskDone()` called more times than this process got items (Python's `ValueError`). */
  TASK_DONE: "ERR_IPC_QUEUE_TASK_DONE",
  /** `ack()`/`nack()` of a lease that was already settled, or that this process no longer holds. */
  LEASE_SETTLED: "ERR_IPC_QUEUE_LEASE_SETTLED",
  /** More processes hold leases at once than the queue has consumer slots for (128). */
  TOO_MANY_CONSUMERS: "ERR_IPC_QUEUE_TOO_MANY_CONSUMERS",
  /** Redis: the server could not be reached within the operation's timeout (the operation may or may not have been applied). */
  UNAVAILABLE: "ERR_IPC_QUEUE_UNAVAILABLE",
  /** Redis: the queue does not exist (never created, deleted, or lost by a server restarted without persistence). */
  NOT_FOUND: "ERR_IPC_QUEUE_NOT_FOUND",
  /** Redis: `createRedisQueue` found a queue of that name already. */
  EXISTS: "ERR_IPC_QUEUE_EXISTS",
} as const;

/** A code defined by @ipc/queue. */
export type QueueErrorCode = (typeof QueueErrorCode)[keyof typeof QueueErrorCode];
