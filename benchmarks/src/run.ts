// `pnpm bench [--quick | --long] [--only id,id] [--load] [--json file] [--svg file] [--no-pin]`
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { bytes } from "@ipc/core";
import { createFifo, openFifoChannel } from "@ipc/fifo";
import { forkWithPipes } from "@ipc/pipe";
import { createShmChannel } from "@ipc/shm";
import { onSignal, sendSignal } from "@ipc/signal";
import { listen } from "@ipc/socket";
import type { Link } from "./link.js";
import { MECHANISMS, type Mechanism, smallMessage } from "./mechanisms.js";
import { formatNumber, formatRatio, quantile } from "./stats.js";
import { renderSvg } from "./svg.js";

/** What one mechanism measured. */
export interface Result {
  id: string;
  label: string;
  rttP50Us?: number;
  rttP99Us?: number;
  smallPerSecond?: number;
  bandwidthBytesPerSecond?: number;
  chunkBytesPerSecond?: number;
}

const MODES = {
  quick: { warmup: 200, roundTrips: 1_000, oneWay: 10_000, bandwidthScale: 0.1 },
  standard: { warmup: 2_000, roundTrips: 20_000, oneWay: 200_000, bandwidthScale: 1 },
  long: { warmup: 5_000, roundTrips: 100_000, oneWay: 1_000_000, bandwidthScale: 3 },
} as const;

const BASELINE_ID = "cp-json";
const MIB = 1024 * 1024;
const PEER = fileURLToPath(new URL("./peer.ts", import.meta.url));

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    long: { type: "boolean", default: false },
    only: { type: "string" },
    json: { type: "string" },
    svg: { type: "string" },
    "no-pin": { type: "boolean", default: false },
    load: { type: "boolean", default: false },
  },
});
const mode = flags.quick ? MODES.quick : flags.long ? MODES.long : MODES.standard;
const selected = flags.only ? MECHANISMS.filter((m) => flags.only!.split(",").includes(m.id)) : MECHANISMS;
const workDir = mkdtempSync(join(tmpdir(), "ipc-bench-"));

interface Session {
  link: Link;
  child: ChildProcess;
  cleanup?: () => Promise<void>;
}

let sessionNumber = 0;

async function startPeer(
  mechanism: Mechanism,
  phase: "echo" | "sink",
  count: number | string,
): Promise<Session> {
  const peerArgs = [mechanism.id, phase, String(count)];
  const args = [...process.execArgv, PEER, ...peerArgs];
  let session: Session;
  if (mechanism.transport === "ipc-pipe") {
    const piped = await forkWithPipes(PEER, peerArgs, {
      pipes: [{ codec: mechanism.codec! }],
    });
    session = { child: piped.process, link: mechanism.link({ channel: piped.channel() }) };
  } else if (mechanism.transport === "unix-socket" || mechanism.transport === "tcp-socket") {
    const server = createServer();
    if (mechanism.transport === "unix-socket") server.listen(join(workDir, `${mechanism.id}-${phase}.sock`));
    else server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const bound = server.address();
    const address = typeof bound === "string" ? bound : `127.0.0.1:${bound!.port}`;
    const child = spawn(process.execPath, [...args, address], { stdio: "inherit" });
    const [socket] = (await once(server, "connection")) as [Socket];
    socket.setNoDelay(true);
    server.close();
    session = { child, link: mechanism.link({ socket }) };
  } else if (mechanism.transport === "ipc-fifo") {
    sessionNumber += 1;
    const toPeer = join(workDir, `${mechanism.id}-${sessionNumber}-to-peer.fifo`);
    const toParent = join(workDir, `${mechanism.id}-${sessionNumber}-to-parent.fifo`);
    await Promise.all([createFifo(toPeer), createFifo(toParent)]);
    const child = spawn(process.execPath, [...args, `${toPeer},${toParent}`], { stdio: "inherit" });
    const channel = await openFifoChannel(toParent, toPeer, { codec: mechanism.codec!, timeout: 30_000 });
    session = { child, link: mechanism.link({ channel }) };
  } else if (mechanism.transport === "ipc-shm") {
    const options = { codec: mechanism.codec!, spin: mechanism.spin };
    const channel = createShmChannel(options);
    const child = spawn(process.execPath, args, { stdio: ["inherit", "inherit", "inherit", channel.fd!] });
    session = { child, link: mechanism.link({ channel }) };
  } else if (mechanism.transport === "ipc-socket-unix" || mechanism.transport === "ipc-socket-tcp") {
    const where =
      mechanism.transport === "ipc-socket-unix" ? join(workDir, `${mechanism.id}-${phase}.sock`) : ":0";
    const listener = await listen(where, { codec: mechanism.codec! });
    const child = spawn(process.execPath, [...args, listener.address], { stdio: "inherit" });
    const channel = await listener.accept();
    session = {
      child,
      link: mechanism.link({ channel }),
      cleanup: () => listener.close({ graceful: false }),
    };
  } else {
    const child = spawn(process.execPath, args, {
      stdio: ["inherit", "inherit", "inherit", "ipc"],
      serialization: mechanism.transport === "fork-advanced" ? "advanced" : "json",
    });
    session = { child, link: mechanism.link({ process: child }) };
  }
  pin(session.child.pid, PEER_CPU);
  await session.link.receive(); // the peer's "ready"
  return session;
}

async function finish(session: Session): Promise<void> {
  const exited = session.child.exitCode === null ? once(session.child, "exit") : Promise.resolve();
  await session.link.close();
  await exited;
  await session.cleanup?.();
}

async function measureRoundTrip(mechanism: Mechanism, result: Result): Promise<void> {
  const session = await startPeer(mechanism, "echo", mode.warmup + mode.roundTrips);
  const { link } = session;
  for (let i = 0; i < mode.warmup; i += 1) {
    await link.send(smallMessage(mechanism, i));
    await link.receive();
  }
  const samples = new Float64Array(mode.roundTrips);
  for (let i = 0; i < mode.roundTrips; i += 1) {
    const start = process.hrtime.bigint();
    await link.send(smallMessage(mechanism, i));
    await link.receive();
    samples[i] = Number(process.hrtime.bigint() - start) / 1000;
  }
  const sorted = Array.from(samples).sort((a, b) => a - b);
  result.rttP50Us = quantile(sorted, 0.5);
  result.rttP99Us = quantile(sorted, 0.99);
  await finish(session);
}

/**
 * Seconds to send `count` messages one way and have them all received, after a untimed warm-up of a fifth
 * as many (so that every mechanism is measured with its code already compiled).
 */
async function measureOneWay(
  mechanism: Mechanism,
  count: number,
  message: (i: number) => unknown,
): Promise<number> {
  const warmUp = Math.max(1, Math.round(count / 5));
  const session = await startPeer(mechanism, "sink", `${warmUp}+${count}`);
  for (let i = 0; i < warmUp; i += 1) await session.link.send(message(i));
  await session.link.receive(); // the warm-up's acknowledgement
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i += 1) await session.link.send(message(i));
  await session.link.receive(); // the acknowledgement, sent after the last message arrived
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await finish(session);
  return seconds;
}

async function measure(mechanism: Mechanism): Promise<Result> {
  const result: Result = { id: mechanism.id, label: mechanism.label };
  await measureRoundTrip(mechanism, result);
  const smallSeconds = await measureOneWay(mechanism, mode.oneWay, (i) => smallMessage(mechanism, i));
  result.smallPerSecond = mode.oneWay / smallSeconds;
  if (mechanism.bandwidthCount !== undefined) {
    const count = Math.max(2, Math.round(mechanism.bandwidthCount * mode.bandwidthScale));
    const payload = Buffer.alloc(MIB, 7);
    const seconds = await measureOneWay(mechanism, count, () => payload);
    result.bandwidthBytesPerSecond = (count * MIB) / seconds;
  }
  if (mechanism.chunkCount !== undefined) {
    const count = Math.max(2, Math.round(mechanism.chunkCount * mode.bandwidthScale));
    const payload = Buffer.alloc(64 * 1024, 7);
    const seconds = await measureOneWay(mechanism, count, () => payload);
    result.chunkBytesPerSecond = (count * 64 * 1024) / seconds;
  }
  return result;
}

function printTable(results: Result[]): void {
  const base = results.find((r) => r.id === BASELINE_ID);
  const rows = [
    [
      "mechanism",
      "RTT p50 µs",
      "RTT p99 µs",
      "RTT vs base",
      "small msg/s",
      "vs base",
      "1 MiB MB/s",
      "vs base",
      "64 KiB MB/s",
    ],
    ...results.map((r) => [
      r.label,
      formatNumber(r.rttP50Us),
      formatNumber(r.rttP99Us),
      formatRatio(base?.rttP50Us, r.rttP50Us),
      formatNumber(r.smallPerSecond),
      formatRatio(r.smallPerSecond, base?.smallPerSecond),
      formatNumber(r.bandwidthBytesPerSecond === undefined ? undefined : r.bandwidthBytesPerSecond / 1e6),
      formatRatio(r.bandwidthBytesPerSecond, base?.bandwidthBytesPerSecond),
      formatNumber(r.chunkBytesPerSecond === undefined ? undefined : r.chunkBytesPerSecond / 1e6),
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  for (const [index, row] of rows.entries()) {
    console.log(
      row
        .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
        .join("  "),
    );
    if (index === 0) console.log(widths.map((w) => "-".repeat(w)).join("  "));
  }
  console.log(
    `\nRatios are to ${base?.label ?? BASELINE_ID} (higher is better; RTT ratio = baseline p50 / p50).`,
  );
}

// Pinning the bench process to one CPU and every peer to another makes runs comparable: left to the
// scheduler, a ping-pong lands on one core or two at random, and round trips differ by 2x.
const PARENT_CPU = 0;
const PEER_CPU = 1;
const pinning = !flags["no-pin"] && availableParallelism() >= 2 && commandExists("taskset");

function pin(pid: number | undefined, cpu: number): void {
  if (!pinning || pid === undefined) return;
  execFileSync("taskset", ["--all-tasks", "--cpu-list", "--pid", String(cpu), String(pid)], {
    stdio: "ignore",
  });
}

function commandExists(command: string): boolean {
  try {
    execFileSync(command, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

pin(process.pid, PARENT_CPU);
const SIGNAL_ECHO = fileURLToPath(new URL("./signal-echo.ts", import.meta.url));

/** SIGUSR2 to a peer that answers with SIGUSR2: the round trip of a signal between two processes. */
async function measureSignalRoundTrip(): Promise<void> {
  const child = spawn(process.execPath, [...process.execArgv, SIGNAL_ECHO], {
    stdio: ["inherit", "pipe", "inherit"],
  });
  pin(child.pid, PEER_CPU);
  await once(child.stdout!, "data"); // "ready": its handler is installed
  let answered: (() => void) | undefined;
  const stop = onSignal("SIGUSR2", () => answered?.());
  const roundTrip = () =>
    new Promise<void>((resolve) => {
      answered = resolve;
      sendSignal(child, "SIGUSR2");
    });
  for (let i = 0; i < mode.warmup / 10; i += 1) await roundTrip();
  const count = mode.roundTrips / 10;
  const samples: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const start = process.hrtime.bigint();
    await roundTrip();
    samples.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  stop();
  child.kill("SIGTERM");
  await once(child, "exit");
  samples.sort((a, b) => a - b);
  console.log(
    `\nSignal round trip (SIGUSR2 there, SIGUSR2 back, ${count} times): p50 ${formatNumber(quantile(samples, 0.5))} µs, p99 ${formatNumber(quantile(samples, 0.99))} µs`,
  );
}

const LOAD_PROCESSES = 2;
const LOAD_CLIENTS_PER_PROCESS = 50;
const LOAD = fileURLToPath(new URL("./load.ts", import.meta.url));

/** Many clients at once against one @ipc/socket listener that echoes: round trips/s and latency. */
async function runLoad(): Promise<void> {
  const roundTrips = Math.max(50, Math.round(mode.roundTrips / 20));
  console.log(
    `\nLoad: ${LOAD_PROCESSES * LOAD_CLIENTS_PER_PROCESS} clients (${LOAD_PROCESSES} processes × ${LOAD_CLIENTS_PER_PROCESS}), ${roundTrips} ping-pongs of 64 B each, server echoes`,
  );
  console.log("transport  round trips/s  p50 µs  p99 µs");
  for (const [label, where] of [
    ["Unix", join(workDir, "load.sock")],
    ["TCP", ":0"],
  ] as const) {
    const listener = await listen(where, { codec: bytes, maxConnections: 10_000 });
    void (async () => {
      for await (const channel of listener) {
        void (async () => {
          for await (const message of channel) await channel.send(message as Uint8Array);
        })().catch(() => undefined);
      }
    })();
    const children = Array.from({ length: LOAD_PROCESSES }, () => {
      const child = spawn(
        process.execPath,
        [...process.execArgv, LOAD, listener.address, String(LOAD_CLIENTS_PER_PROCESS), String(roundTrips)],
        { stdio: ["inherit", "inherit", "inherit", "ipc"], serialization: "advanced" },
      );
      pin(child.pid, PEER_CPU);
      return once(child, "message").then(
        ([report]) => report as { seconds: number; latencies: Float64Array },
      );
    });
    const reports = await Promise.all(children);
    await listener.close({ timeout: 2000 });
    const all = reports.flatMap((report) => Array.from(report.latencies)).sort((a, b) => a - b);
    const seconds = Math.max(...reports.map((report) => report.seconds));
    console.log(
      `${label.padEnd(9)}  ${formatNumber(all.length / seconds).padStart(13)}  ${formatNumber(quantile(all, 0.5)).padStart(6)}  ${formatNumber(quantile(all, 0.99)).padStart(6)}`,
    );
  }
}

const modeName = flags.quick ? "quick" : flags.long ? "long" : "standard";
console.log(
  `@ipc benchmarks (${modeName}): ${mode.roundTrips} round trips, ${mode.oneWay} one-way small messages, Node ${process.version}, ${pinning ? `bench on CPU ${PARENT_CPU}, peers on CPU ${PEER_CPU}` : "not pinned"}\n`,
);
const results: Result[] = [];
try {
  for (const mechanism of selected) results.push(await measure(mechanism));
  printTable(results);
  if (!flags.only || flags.only.split(",").includes("signal")) await measureSignalRoundTrip();
  if (flags.load) await runLoad();
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
if (flags.json)
  writeFileSync(
    flags.json,
    `${JSON.stringify({ mode: modeName, node: process.version, results }, null, 2)}\n`,
  );
if (flags.svg) writeFileSync(flags.svg, renderSvg(results, BASELINE_ID));
