import { registerReviver } from "@ipc/core/transport";
import { reviveQueue } from "./revive.js";

// A child process rebuilds this package's objects its parent handed it (`Process` args in @ipc/pipe).
// Here, in the entry point, so that no bundler drops it as a side effect.
registerReviver("@ipc/queue", reviveQueue);

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
