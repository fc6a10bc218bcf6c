// One side of the Redis queue benchmark, in its own process: `redis-peer.ts <ours|bullmq> <role> <url>
// <queue> [count] [concurrency]`. Prints one JSON line with what it measured.
//
// Both sides are written as their documentation shows them, the way a competent user would:
// - add: ours fires puts a thousand at a time (each end batches the puts called together into one
//   request); BullMQ's addBulk a thousand jobs at a time. Jobs are removed once complete
//   (`removeOnComplete: true`), as ours are once acked.
// - process: ours runs `concurrency` loops of lease → ack on one queue end; BullMQ one Worker with that
//   `concurrency` and an empty processor. Timed from the moment the consumer is connected and ready.
// - ping/pong: a single item put and got (processed) by another process and answered on a second queue.

import { openRedisQueue } from "@ipc/queue/redis";
import { Queue as BullQueue, Worker } from "bullmq";
import { Redis } from "ioredis";

const [impl, role, url, name, countText, concurrencyText] = process.argv.slice(2) as string[];
const count = Number(countText ?? 0);
const concurrency = Number(concurrencyText ?? 1);
const item = (i: number) => ({ id: i, body: "x".repeat(40) });
const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
const bullConnection = () => new Redis(url!, { maxRetriesPerRequest: null });

async function oursAdd(): Promise<void> {
  const queue = await openRedisQueue(name!, { url: url! });
  const started = performance.now();
  for (let i = 0; i < count; i += 1000) {
    const chunk = [];
    for (let j = i; j < Math.min(count, i + 1000); j++) chunk.push(queue.put(item(j)));
    await Promise.all(chunk);
  }
  print({ ms: performance.now() - started });
  await queue.close();
}

async function bullAdd(): Promise<void> {
  const connection = bullConnection();
  const queue = new BullQueue(name!, { connection });
  await queue.waitUntilReady();
  const started = performance.now();
  for (let i = 0; i < count; i += 1000) {
    const jobs = [];
    for (let j = i; j < Math.min(count, i + 1000); j++)
      jobs.push({ name: "job", data: item(j), opts: { removeOnComplete: true } });
    await queue.addBulk(jobs);
  }
  print({ ms: performance.now() - started });
  await queue.close();
  connection.disconnect();
}

async function oursProcess(): Promise<void> {
  const queue = await openRedisQueue(name!, { url: url! });
  let reserved = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (reserved < count) {
        reserved += 1;
        const lease = await queue.lease();
        await lease.ack();
      }
    }),
  );
  print({ ms: performance.now() - started });
  await queue.close();
}

async function bullProcess(): Promise<void> {
  const connection = bullConnection();
  let done = 0;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const worker = new Worker(name!, async () => {}, { connection, concurrency, autorun: false });
  worker.on("completed", () => {
    if (++done === count) finish();
  });
  await worker.waitUntilReady();
  const started = performance.now();
  void worker.run();
  await finished;
  print({ ms: performance.now() - started });
  await worker.close();
  connection.disconnect();
}

/** Answers every ping on `<name>-ping` with a pong on `<name>-pong`. */
async function oursEcho(): Promise<void> {
  const pings = await openRedisQueue(`${name}-ping`, { url: url! });
  const pongs = await openRedisQueue(`${name}-pong`, { url: url! });
  print({ ready: true });
  for (let i = 0; i < count; i++) await pongs.put(await pings.get());
  await pings.close();
  await pongs.close();
}

/** Sends `count` pings, one at a time; prints each round trip in µs. */
async function oursPing(): Promise<void> {
  const pings = await openRedisQueue(`${name}-ping`, { url: url! });
  const pongs = await openRedisQueue(`${name}-pong`, { url: url! });
  const trips: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await pings.put(i);
    await pongs.get();
    trips.push((performance.now() - started) * 1000);
  }
  print({ trips });
  await pings.close();
  await pongs.close();
}

async function bullEcho(): Promise<void> {
  const connection = bullConnection();
  const pongs = new BullQueue(`${name}-pong`, { connection });
  const worker = new Worker(
    `${name}-ping`,
    async (job) => {
      await pongs.add("pong", job.data, { removeOnComplete: true });
    },
    { connection: bullConnection(), concurrency: 1 },
  );
  await worker.waitUntilReady();
  print({ ready: true });
  let done = 0;
  await new Promise<void>((resolve) => worker.on("completed", () => ++done === count && resolve()));
  await worker.close();
  await pongs.close();
  connection.disconnect();
}

async function bullPing(): Promise<void> {
  const connection = bullConnection();
  const pings = new BullQueue(`${name}-ping`, { connection });
  let answer: () => void = () => {};
  const worker = new Worker(`${name}-pong`, async () => answer(), {
    connection: bullConnection(),
    concurrency: 1,
  });
  await worker.waitUntilReady();
  await pings.waitUntilReady();
  const trips: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const answered = new Promise<void>((resolve) => (answer = resolve));
    await pings.add("ping", { i }, { removeOnComplete: true });
    await answered;
    trips.push((performance.now() - started) * 1000);
  }
  print({ trips });
  await worker.close();
  await pings.close();
  connection.disconnect();
}

const roles: Record<string, () => Promise<void>> = {
  "ours add": oursAdd,
  "bullmq add": bullAdd,
  "ours process": oursProcess,
  "bullmq process": bullProcess,
  "ours echo": oursEcho,
  "ours ping": oursPing,
  "bullmq echo": bullEcho,
  "bullmq ping": bullPing,
};
await roles[`${impl} ${role}`]!();
process.exit(0);
