import { bytes, type Codec } from "@ipc/core";
import { createJoinableQueue, createQueue, openQueue } from "@ipc/queue";
import { uniqueSegmentName } from "@ipc/shm";
import {
  describeQueueConformance,
  type PeerConsumer,
  type QueueUnderTest,
} from "@ipc-internal/queue-conformance";
import { peerConsumer } from "./peer-consumer.js";

describeQueueConformance({
  name: "@ipc/queue (shared memory)",
  capabilities: { maxItemBytes: 4096 - 16, redeliveryMs: 250 },
  async create<T>(request: { maxsize?: number; maxDeliveries?: number; joinable?: boolean; codec?: string }) {
    const codec = (request.codec === "bytes" ? bytes : undefined) as Codec<T> | undefined;
    const options = {
      name: uniqueSegmentName("ipc-test-queue"),
      maxsize: request.maxsize,
      maxDeliveries: request.maxDeliveries,
      capacity: 4096,
      codec,
    };
    const queue = request.joinable ? createJoinableQueue<T>(options) : createQueue<T>(options);
    const ends: QueueUnderTest<T>[] = [queue as QueueUnderTest<T>];
    const peers: PeerConsumer[] = [];
    return {
      queue: queue as QueueUnderTest<T>,
      async second() {
        const other = openQueue<T>(queue.name!, { codec }) as QueueUnderTest<T>;
        ends.push(other);
        return other;
      },
      async peer() {
        const consumer = await peerConsumer(queue.name!);
        peers.push(consumer);
        return consumer;
      },
      async dispose() {
        for (const consumer of peers) await consumer.kill();
        for (const end of ends.reverse()) await end.close();
      },
    };
  },
});
