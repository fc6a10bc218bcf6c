import "./revive.js";

export { QueueErrorCode } from "./errors.js";
export { JoinableQueue } from "./joinable-queue.js";
export { DEFAULT_MAX_DELIVERIES, DEFAULT_QUEUE_CAPACITY_BYTES } from "./layout.js";
export type { Lease } from "./lease.js";
export type { CreateQueueOptions, OpenQueueOptions, SimpleQueue } from "./open-queue.js";
export {
  createJoinableQueue,
  createQueue,
  createSimpleQueue,
  openJoinableQueue,
  openQueue,
} from "./open-queue.js";
export type { DeadLetter, QueueOptions } from "./queue.js";
export { DEFAULT_QUEUE_SPIN_MS, Queue } from "./queue.js";
