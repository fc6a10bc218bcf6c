// @ipc/queue/redis: the queue on Redis Streams, for processes on several machines. node-redis
// (`@redis/client`) is an optional peer dependency, loaded only by this entry point.
export { QueueErrorCode } from "../errors.js";
export type { Lease } from "../lease.js";
export type { DeadLetter } from "../queue.js";
export type { RedisClient, RedisTarget } from "./link.js";
export type { CreateRedisQueueOptions, OpenRedisQueueOptions } from "./open-redis-queue.js";
export {
  createRedisJoinableQueue,
  createRedisQueue,
  DEFAULT_LEASE_TIMEOUT_MS,
  DEFAULT_MAX_ITEM_BYTES,
  DEFAULT_REDIS_TIMEOUT_MS,
  openRedisJoinableQueue,
  openRedisQueue,
  unlinkRedisQueue,
} from "./open-redis-queue.js";
export type { RedisPutOptions, RedisQueueSettings } from "./redis-queue.js";
export { DEFAULT_IDEMPOTENCY_WINDOW_MS, RedisJoinableQueue, RedisQueue } from "./redis-queue.js";
