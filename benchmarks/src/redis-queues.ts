// `pnpm bench:redis [--quick] [--rounds n] [--json file] [--md file]`: @ipc/queue/redis beside BullMQ on
// the same local redis-server (started here, TCP on 127.0.0.1, no persistence), in BullMQ's usual
// add-then-process scenario: one process adds N small jobs, then one worker process with the same
// concurrency processes them all; then the latency of one item put and got by another process. Rounds
// interleave ours and BullMQ's; medians and ranges are reported. The built packages are measured.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createRedisQueue, unlinkRedisQueue } from "@ipc/queue/redis";
import { findRedisServer, startRedisServer } from "@ipc-internal/test-utils";
import { formatNumber, quantile } from "./stats.js";

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    rounds: { type: "string" },
    json: { type: "string" },
    md: { type: "string" },
  },
});
const rounds = Number(flags.rounds ?? (flags.quick ? 1 : 3));
const items = flags.quick ? 5_000 : 50_000;
const concurrency = 16;
const pings = flags.quick ? 100 : 1000;
const peerScript = fileURLToPath(new URL("./redis-peer.ts", import.meta.url));

if (findRedisServer() === undefined) {
  console.log("bench:redis skipped: no redis-server on this machine (apt-get install redis-server)");
  process.exit(0);
}

function peer(args: string[]): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", peerScript, ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
}

/** The JSON lines a peer printed, once it has exited. */
async function lines(
  child: ChildProcess,
  onLine?: (value: Record<string, unknown>) => void,
): Promise<Record<string, unknown>[]> {
  const values: Record<string, unknown>[] = [];
  let text = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    text += chunk;
    let newline = text.indexOf("\n");
    while (newline >= 0) {
      const value = JSON.parse(text.slice(0, newline)) as Record<string, unknown>;
      values.push(value);
      onLine?.(value);
      text = text.slice(newline + 1);
      newline = text.indexOf("\n");
    }
  });
  const [code] = await once(child, "exit");
  if (code !== 0) throw new Error(`a benchmark process exited with code ${code}`);
  return values;
}

const server = await startRedisServer();
let names = 0;

/** Add-then-process: milliseconds to add, milliseconds to process. */
async function throughput(impl: "ours" | "bullmq"): Promise<{ add: number; process: number }> {
  const name = `bench-${process.pid}-${names++}`;
  if (impl === "ours") await (await createRedisQueue(name, { url: server.url })).close();
  const [added] = await lines(peer([impl, "add", server.url, name, String(items)]));
  const [processed] = await lines(
    peer([impl, "process", server.url, name, String(items), String(concurrency)]),
  );
  if (impl === "ours") await unlinkRedisQueue(name, { url: server.url });
  return { add: added!.ms as number, process: processed!.ms as number };
}

/** Median one-way latency (µs) of a single item put by one process and got by another. */
async function latency(impl: "ours" | "bullmq"): Promise<number> {
  const name = `bench-${process.pid}-${names++}`;
  if (impl === "ours") {
    await (await createRedisQueue(`${name}-ping`, { url: server.url })).close();
    await (await createRedisQueue(`${name}-pong`, { url: server.url })).close();
  }
  let ready: () => void = () => {};
  const echoReady = new Promise<void>((resolve) => (ready = resolve));
  const echo = lines(peer([impl, "echo", server.url, name, String(pings)]), () => ready());
  await echoReady;
  const [result] = await lines(peer([impl, "ping", server.url, name, String(pings)]));
  await echo;
  if (impl === "ours") {
    await unlinkRedisQueue(`${name}-ping`, { url: server.url });
    await unlinkRedisQueue(`${name}-pong`, { url: server.url });
  }
  const trips = (result!.trips as number[]).slice(Math.min(20, pings / 10)).sort((a, b) => a - b);
  return quantile(trips, 0.5) / 2;
}

const median = (values: number[]) =>
  quantile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
const samples = {
  ours: { add: [] as number[], process: [] as number[], endToEnd: [] as number[], latency: [] as number[] },
  bullmq: { add: [] as number[], process: [] as number[], endToEnd: [] as number[], latency: [] as number[] },
};
try {
  for (let round = 1; round <= rounds; round++) {
    for (const impl of ["ours", "bullmq"] as const) {
      const { add, process: work } = await throughput(impl);
      samples[impl].add.push((items / add) * 1000);
      samples[impl].process.push((items / work) * 1000);
      samples[impl].endToEnd.push((items / (add + work)) * 1000);
      samples[impl].latency.push(await latency(impl));
      process.stderr.write(".");
    }
  }
} finally {
  await server.stop();
}
process.stderr.write("\n");

const redisVersion = execFileSync(findRedisServer()!, ["--version"])
  .toString()
  .match(/v=([\d.]+)/)?.[1];
const range = (values: number[], digits = 0) =>
  `${formatNumber(Math.min(...values), digits)}–${formatNumber(Math.max(...values), digits)}`;
const row = (label: string, key: "add" | "process" | "endToEnd") => {
  const ours = median(samples.ours[key]);
  const theirs = median(samples.bullmq[key]);
  return `| ${label} | ${formatNumber(ours)} (${range(samples.ours[key])}) | ${formatNumber(theirs)} (${range(samples.bullmq[key])}) | ${(ours / theirs).toFixed(1)}× |`;
};
const out = [
  `@ipc/queue/redis beside BullMQ 6.7.0 (ioredis 6.0.0) on one local redis-server ${redisVersion} (TCP 127.0.0.1, no persistence), ${formatNumber(items)} jobs of ~60 bytes of JSON, worker concurrency ${concurrency}; ${rounds} interleaved round(s), medians (range); ${cpus().length} CPUs`,
  "",
  "| scenario | @ipc/queue/redis items/s | BullMQ items/s | ratio |",
  "|---|---|---|---|",
  row("add (ours: puts fired a thousand at a time; BullMQ: addBulk of 1,000)", "add"),
  row("process (ours: lease + ack; BullMQ: Worker, empty processor)", "process"),
  row("end to end (jobs ÷ add time + process time)", "endToEnd"),
  "",
  `One item put by a process and got by another (median of ${pings} ping-pongs / 2): @ipc/queue/redis ${median(samples.ours.latency).toFixed(0)} µs, BullMQ (add → Worker) ${median(samples.bullmq.latency).toFixed(0)} µs.`,
];
console.log(out.join("\n"));
let commit: string | undefined;
try {
  commit = execFileSync("git", ["rev-parse", "--short", "HEAD"]).toString().trim();
} catch {
  commit = undefined;
}
if (flags.json)
  writeFileSync(
    flags.json,
    `${JSON.stringify({ rounds, items, concurrency, pings, redis: redisVersion, commit, machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version }, samples }, null, 2)}\n`,
  );
if (flags.md)
  writeFileSync(
    flags.md,
    `${out.join("\n")}\n\nCommand: \`pnpm bench:redis\` (${new Date().toISOString().slice(0, 10)}, Node ${process.version}, commit ${commit ?? "unknown"}).\n`,
  );
