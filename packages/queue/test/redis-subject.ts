// The Redis backend as the queue suite's subject, and the redis-server its tests share.
import { bytes, type Codec } from "@ipc/core";
import {
  createRedisJoinableQueue,
  createRedisQueue,
  openRedisQueue,
  unlinkRedisQueue,
} from "@ipc/queue/redis";
import type { PeerConsumer, QueueSubject, QueueUnderTest } from "@ipc-internal/queue-conformance";
import type { RedisServer } from "@ipc-internal/test-utils";
import { peerConsumer } from "./peer-consumer.js";

/** Lease timeout of the suite's queues: short, so that a dead consumer's items come back quickly. */
export const TEST_LEASE_TIMEOUT_MS = 1000;

let names = 0;
/** A queue name no other test uses. */
export function uniqueQueueName(): string {
  return `test-${process.pid}-${Date.now().toString(36)}-${names++}`;
}

/** The suite's subject on `server` (started before the first queue is made). */
export function redisSubject(server: () => RedisServer): QueueSubject {
  return {
    name: "@ipc/queue/redis (Redis Streams)",
    capabilities: { maxItemBytes: 64 * 1024, redeliveryMs: TEST_LEASE_TIMEOUT_MS + 600 },
    async create<T>(request: {
      maxsize?: number;
      maxDeliveries?: number;
      joinable?: boolean;
      codec?: string;
    }) {
      const { url } = server();
      const codec = (request.codec === "bytes" ? bytes : undefined) as Codec<T> | undefined;
      const name = uniqueQueueName();
      const options = {
        url,
        maxsize: request.maxsize,
        maxDeliveries: request.maxDeliveries,
        leaseTimeout: TEST_LEASE_TIMEOUT_MS,
        maxItemBytes: 64 * 1024,
        codec,
      };
      const queue = request.joinable
        ? await createRedisJoinableQueue<T>(name, options)
        : await createRedisQueue<T>(name, options);
      const ends: QueueUnderTest<T>[] = [queue as QueueUnderTest<T>];
      const peers: PeerConsumer[] = [];
      return {
        queue: queue as QueueUnderTest<T>,
        async second() {
          const other = (await openRedisQueue<T>(name, { url, codec })) as QueueUnderTest<T>;
          ends.push(other);
          return other;
        },
        async peer() {
          const consumer = await peerConsumer(name, url);
          peers.push(consumer);
          return consumer;
        },
        async dispose() {
          for (const consumer of peers.splice(0)) await consumer.kill();
          for (const end of ends.splice(0).reverse()) await end.close();
          await unlinkRedisQueue(name, { url });
        },
      };
    },
  };
}
