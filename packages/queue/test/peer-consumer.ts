import { fileURLToPath } from "node:url";
import type { PeerConsumer } from "@ipc-internal/queue-conformance";
import { spawnPeer } from "@ipc-internal/test-utils";

const script = fileURLToPath(new URL("./fixtures/peer-consumer.ts", import.meta.url));

/** A consumer process of the queue `name` (on Redis at `redisUrl` when given), driven by the suite. */
export async function peerConsumer(name: string, redisUrl?: string): Promise<PeerConsumer> {
  const peer = spawnPeer(script, { args: redisUrl === undefined ? [name] : [name, redisUrl] });
  const replies: ((message: { value?: unknown }) => void)[] = [];
  peer.child.on("message", (message: { value?: unknown }) => replies.shift()?.(message));
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
