// `pnpm bench:queue [--quick] [--rounds n] [--json file]`: @ipc/queue beside Python's multiprocessing
// queues, measured in one run with the rounds interleaved (ours, then Python's, per scenario and round),
// medians and ranges reported. The built packages are measured (no @ipc/source condition: dist/).
// Python's side is the standard library as its documentation shows it: Queue.put / get (JoinableQueue
// with task_done for the acknowledged row), started processes, items of the same size.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { bytes } from "@ipc/core";
import { createQueue } from "@ipc/queue";
import { uniqueSegmentName } from "@ipc/shm";
import { formatNumber, quantile } from "./stats.js";

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    rounds: { type: "string" },
    json: { type: "string" },
    md: { type: "string" },
    only: { type: "string" },
    "no-python": { type: "boolean", default: false },
  },
});
const rounds = Number(flags.rounds ?? (flags.quick ? 1 : 3));
const scale = flags.quick ? 0.1 : 1;
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const pinnable = availableParallelism() >= 2 && hasTaskset();

interface Scenario {
  id: string;
  label: string;
  producers: number;
  consumers: number;
  codec: "bytes" | "json";
  lease: boolean;
  items: number;
  python?: { scenario: string; items: number };
}

const SCENARIOS: Scenario[] = [
  {
    id: "1to1",
    label: "1 producer → 1 consumer, 64-byte items",
    producers: 1,
    consumers: 1,
    codec: "bytes",
    lease: false,
    items: 500_000,
    python: { scenario: "1to1", items: 100_000 },
  },
  {
    id: "1to1-json",
    label: "1 → 1, small JSON objects (Python: 64-byte bytes)",
    producers: 1,
    consumers: 1,
    codec: "json",
    lease: false,
    items: 300_000,
  },
  {
    id: "1to1-ack",
    label: "1 → 1, lease + ack (Python: JoinableQueue get + task_done)",
    producers: 1,
    consumers: 1,
    codec: "bytes",
    lease: true,
    items: 300_000,
    python: { scenario: "joinable", items: 100_000 },
  },
  {
    id: "4x4",
    label: "4 producers → 4 consumers, 64-byte items",
    producers: 4,
    consumers: 4,
    codec: "bytes",
    lease: false,
    items: 400_000,
    python: { scenario: "4x4", items: 100_000 },
  },
];

/** Runs a node script (TypeScript through tsx, packages from dist/), on `cpu` when pinning is possible. */
function node(script: string, args: string[], cpu?: number): ChildProcess {
  const command = [process.execPath, "--import", "tsx", script, ...args];
  if (pinnable && cpu !== undefined)
    return spawn("taskset", ["-c", String(cpu), ...command], { stdio: ["ignore", "pipe", "inherit"] });
  return spawn(command[0]!, command.slice(1), { stdio: ["ignore", "pipe", "inherit"] });
}

async function output(child: ChildProcess): Promise<string> {
  let text = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
  const [code] = await once(child, "exit");
  if (code !== 0) throw new Error(`a benchmark process exited with code ${code}`);
  return text;
}

/** Items per second through @ipc/queue: from the first item any consumer took to the last. */
async function ours(scenario: Scenario): Promise<number> {
  const items = Math.round(scenario.items * scale);
  const name = uniqueSegmentName("ipc-bench-queue");
  await using queue = createQueue({
    name,
    capacity: 16 * 1024 * 1024,
    codec: scenario.codec === "bytes" ? bytes : undefined,
  });
  void queue;
  const perConsumer = Math.floor(items / scenario.consumers);
  const perProducer = Math.floor((perConsumer * scenario.consumers) / scenario.producers);
  const consumers = Array.from({ length: scenario.consumers }, () =>
    node(
      here("./queue-peer.ts"),
      ["consumer", name, String(perConsumer), scenario.codec, scenario.lease ? "lease" : "get"],
      scenario.producers === 1 ? 0 : undefined,
    ),
  );
  const spans = consumers.map(output);
  const producers = Array.from({ length: scenario.producers }, () =>
    node(
      here("./queue-peer.ts"),
      ["producer", name, String(perProducer), scenario.codec],
      scenario.producers === 1 ? 1 : undefined,
    ),
  );
  await Promise.all(producers.map(output));
  const times = (await Promise.all(spans)).map((text) => JSON.parse(text) as { first: number; last: number });
  const first = Math.min(...times.map((t) => t.first));
  const last = Math.max(...times.map((t) => t.last));
  return ((perConsumer * scenario.consumers - 1) / (last - first)) * 1000;
}

/** Items per second through Python's own queue, same scenario. */
async function python(scenario: Scenario): Promise<number | undefined> {
  if (scenario.python === undefined) return undefined;
  const items = Math.round(scenario.python.items * scale);
  const child = spawn(
    "python3",
    [here("../python/queue_bench.py"), scenario.python.scenario, String(items), "64"],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  return (JSON.parse(await output(child)) as { itemsPerSecond: number }).itemsPerSecond;
}

/** One-way wake-up time of a sleeping get (spin 0), from a ping-pong over two queues, in µs. */
async function queueWakeUs(count: number): Promise<number> {
  const requests = createQueue<Uint8Array>({
    name: uniqueSegmentName("ipc-bench-req"),
    codec: bytes,
    spin: 0,
  });
  const replies = createQueue<Uint8Array>({
    name: uniqueSegmentName("ipc-bench-rep"),
    codec: bytes,
    spin: 0,
  });
  const peer = node(here("./queue-wake-peer.ts"), [requests.name!, replies.name!, String(count), "0"], 1);
  const exited = once(peer, "exit");
  const ping = new Uint8Array(8);
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await requests.put(ping);
    await replies.get();
    samples.push(performance.now() - started);
  }
  await exited;
  await requests.close();
  await replies.close();
  return (median(samples.slice(Math.floor(count / 10))) * 1000) / 2;
}

/** One-way time of a hand-written Unix socket ping-pong (4-byte length, one read per message), in µs. */
async function socketHopUs(count: number): Promise<number> {
  const path = join(tmpdir(), `ipc-bench-hop-${process.pid}.sock`);
  const server = createServer((socket: Socket) => socket.on("data", (data) => socket.write(data)));
  await new Promise<void>((resolve) => server.listen(path, resolve));
  // The echo runs in another process, as the queue's does.
  const echo = spawn(
    process.execPath,
    ["-e", `const s=require("net").connect(${JSON.stringify(path)});s.on("data",d=>s.write(d));`],
    { stdio: "ignore" },
  );
  const [socket] = (await once(server, "connection")) as [Socket];
  socket.removeAllListeners("data");
  const frame = Buffer.alloc(12);
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    socket.write(frame);
    await once(socket, "data");
    samples.push(performance.now() - started);
  }
  echo.kill();
  socket.destroy();
  server.close();
  return (median(samples.slice(Math.floor(count / 10))) * 1000) / 2;
}

function hasTaskset(): boolean {
  try {
    execFileSync("taskset", ["-c", "0", "true"]);
    return true;
  } catch {
    return false;
  }
}

const median = (values: number[]) =>
  quantile(
    [...values].sort((a, b) => a - b),
    0.5,
  );

const results: Record<string, { ours: number[]; python: number[] }> = {};
for (let round = 1; round <= rounds; round++) {
  for (const scenario of SCENARIOS.filter(
    (s) => flags.only === undefined || flags.only.split(",").includes(s.id),
  )) {
    const entry = (results[scenario.id] ??= { ours: [], python: [] });
    entry.ours.push(await ours(scenario));
    const theirs = flags["no-python"] ? undefined : await python(scenario);
    if (theirs !== undefined) entry.python.push(theirs);
    process.stderr.write(".");
  }
}
const wakeCount = flags.quick ? 500 : 5000;
const queueWake = await queueWakeUs(wakeCount);
const socketHop = await socketHopUs(wakeCount);
process.stderr.write("\n");

const lines = [
  `@ipc/queue beside Python ${execFileSync("python3", ["--version"]).toString().trim().split(" ")[1]}'s multiprocessing, ${rounds} interleaved round(s), medians (range); ${cpus().length} CPUs${pinnable ? ", 1→1 pinned to CPUs 0 and 1" : ""}`,
  "",
  "| scenario | @ipc/queue items/s | Python items/s | ratio |",
  "|---|---|---|---|",
];
const json: Record<string, unknown> = {
  rounds,
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
  scenarios: {},
};
for (const scenario of SCENARIOS.filter((s) => results[s.id] !== undefined)) {
  const { ours: mine, python: theirs } = results[scenario.id]!;
  const range = (values: number[]) =>
    `${formatNumber(Math.min(...values))}–${formatNumber(Math.max(...values))}`;
  const ratio = theirs.length > 0 ? `${(median(mine) / median(theirs)).toFixed(1)}×` : "—";
  lines.push(
    `| ${scenario.label} | ${formatNumber(median(mine))} (${range(mine)}) | ${theirs.length > 0 ? `${formatNumber(median(theirs))} (${range(theirs)})` : "—"} | ${ratio} |`,
  );
  (json.scenarios as Record<string, unknown>)[scenario.id] = {
    label: scenario.label,
    ours: mine,
    python: theirs,
  };
}
lines.push(
  "",
  `A sleeping get (spin 0) woken by a put in another process: ${queueWake.toFixed(1)} µs one way (median of ${wakeCount} ping-pongs / 2); one hop of a hand-written Unix socket in the same run: ${socketHop.toFixed(1)} µs.`,
);
json.wake = { queueOneWayUs: queueWake, socketOneWayUs: socketHop };
console.log(lines.join("\n"));
if (flags.json) writeFileSync(flags.json, `${JSON.stringify(json, null, 2)}\n`);
// The README's table is generated from this file (node scripts/sync-bench.mjs), never typed by hand.
if (flags.md)
  writeFileSync(
    flags.md,
    `${lines.join("\n")}\n\nCommand: \`pnpm bench:queue\` (${new Date().toISOString().slice(0, 10)}, Node ${process.version}).\n`,
  );
