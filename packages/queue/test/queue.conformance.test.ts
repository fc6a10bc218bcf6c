import { fileURLToPath } from "node:url";
import { bytes, type Codec } from "@ipc/core";
import { createJoinableQueue, createQueue, openQueue } from "@ipc/queue";
import { uniqueSegmentName } from "@ipc/shm";
import {
  describeQueueConformance,
  type PeerConsumer,
  type QueueUnderTest,
} from "@ipc-internal/queue-conformance";
import { spawnPeer } from "@ipc-internal/test-utils";

const peerScript = fileURLToPath(new URL("./fixtures/peer-consumer.ts", import.meta.url));

/** A consumer process of the named queue. */
async function peerConsumer(name: string): Promise<PeerConsumer> {
  const peer = spawnPeer(peerScript, { args: [name] });
  const replies: ((message: { value?: unknown }) => void)[] = [];
  peer.child.on("message", (message: { value?: unknown; ready?: boolean }) => replies.shift()?.(message));
  await new Promise((resolve) => replies.push(resolve));
  const ask = (op: string) =>
    new Promise<unknown>((resolve) => {
      replies.push((message) => resolve(message.value));
      peer.child.send({ op });
    });
  return {
    leaseOne: () => ask("lease"),
    getOne: () => ask("get"),
    kill: async () => {
      peer.child.kill("SIGKILL");
      await peer.exited;
    },
  };
}

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
