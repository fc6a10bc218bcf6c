// A producer or consumer of the queue benchmark: `queue-peer.ts <role> <queue name> <count> <bytes|json>
// [lease]`. A consumer prints {"first": ms, "last": ms} (absolute times) when it has taken `count` items.
import { bytes, type Codec } from "@ipc/core";
import { openQueue } from "@ipc/queue";

const [role, name, countText, codecName, mode] = process.argv.slice(2) as string[];
const count = Number(countText);
const codec = (codecName === "bytes" ? bytes : undefined) as Codec<unknown> | undefined;
const queue = openQueue<unknown>(name!, { codec });
const now = () => performance.timeOrigin + performance.now();

if (role === "producer") {
  const item = codecName === "bytes" ? new Uint8Array(64).fill(120) : { id: 1, body: "x".repeat(40) };
  for (let i = 0; i < count; i++) await queue.put(item);
} else {
  let first = 0;
  for (let i = 0; i < count; i++) {
    if (mode === "lease") await (await queue.lease()).ack();
    else await queue.get();
    if (i === 0) first = now();
  }
  process.stdout.write(`${JSON.stringify({ first, last: now() })}\n`);
}
await queue.close();
