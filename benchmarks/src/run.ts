// `pnpm bench [--quick | --long] [--only id,id] [--rounds n] [--save] [--json f] [--md f] [--svg f]
// [--no-pin] [--no-external]` (BENCH_TIMES=1 prints how long each session took): every mechanism two Node processes can talk through, side by
// side in one run, measured on the built packages (this file runs compiled, from dist/, so peers start as
// plain Node). Each mechanism runs once per round, rounds interleave the mechanisms (each round starts at
// a different one), and the tables give medians over rounds with their ranges. Ratios are to the fairest
// baseline for each row: a hand-written socket with the same payload and codec (see mechanisms.ts).
// Floors beside them: Python's multiprocessing.Pipe and a C socketpair / shared-memory ping-pong.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createFifo, openFifoChannel } from "@ipc/fifo";
import { forkWithPipes } from "@ipc/pipe";
import { createShmChannel } from "@ipc/shm";
import { onSignal, sendSignal } from "@ipc/signal";
import { listen } from "@ipc/socket";
import { mainThreadCpuUs } from "./cpu.js";
import { installExternal } from "./external.js";
import { nodeIpcServe, zeromqListen } from "./external-links.js";
import { type Floors, measureFloors } from "./floors.js";
import type { Link } from "./link.js";
import { MECHANISMS, type Mechanism, markerMessage, smallMessage } from "./mechanisms.js";
import { renderMarkdown, renderShmMarkdown, type Summary, summarize } from "./report.js";
import { quantile } from "./stats.js";
import { renderSvg } from "./svg.js";

/** What one mechanism measured in one round. */
export interface Sample {
  rttP50Us: number;
  rttP99Us: number;
  /** CPU time of the main threads of both processes per round trip, µs (cpu.ts). */
  cpuPerRttUs: number;
  smallPerSecond: number;
  largeBytesPerSecond?: number;
  /** Request/response whose handler takes 50 µs: round trip p50, p99 (µs). */
  handlerP50Us?: number;
  handlerP99Us?: number;
}

const MODES = {
  quick: { rounds: 1, warmup: 100, warmupMs: 10, roundTrips: 500, oneWay: 5_000, large: 8 },
  standard: { rounds: 3, warmup: 300, warmupMs: 100, roundTrips: 2_000, oneWay: 150_000, large: 48 },
  long: { rounds: 5, warmup: 1_000, warmupMs: 300, roundTrips: 10_000, oneWay: 500_000, large: 200 },
} as const;
const MIB = 1024 * 1024;
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const PEER = here("./peer.js");

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    long: { type: "boolean", default: false },
    only: { type: "string" },
    rounds: { type: "string" },
    save: { type: "boolean", default: false },
    json: { type: "string" },
    md: { type: "string" },
    svg: { type: "string" },
    "no-pin": { type: "boolean", default: false },
    "no-external": { type: "boolean", default: false },
  },
});
const modeName = flags.quick ? "quick" : flags.long ? "long" : "standard";
const mode = MODES[modeName];
/** Round trips of the request/response rows whose handler takes 50 µs (each costs at least that). */
const handlerTrips = Math.round(mode.roundTrips / 2);
const rounds = Number(flags.rounds ?? mode.rounds);
const workDir = mkdtempSync(join(tmpdir(), "ipc-bench-"));

// Pinning the bench process to one CPU and every peer to another makes runs comparable: left to the
// scheduler, a ping-pong lands on one core or two at random, and round trips differ by 2x.
const PARENT_CPU = 0;
const PEER_CPU = 1;
const pinning = !flags["no-pin"] && availableParallelism() >= 2 && commandExists("taskset");

function pin(pid: number | undefined, cpu: number): void {
  if (!pinning || pid === undefined) return;
  execFileSync("taskset", ["--cpu-list", "--pid", String(cpu), String(pid)], {
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

interface Session {
  link: Link;
  child: ChildProcess;
  /** The peer's report after each phase: its CPU time over the timed part. */
  reports: AsyncIterator<{ cpuUs: number }>;
  cleanup?: () => Promise<void>;
}

let sessionNumber = 0;

/** Starts the peer of `mechanism` running `plan`, connected; undefined when the mechanism is unavailable. */
async function startPeer(mechanism: Mechanism, plan: string): Promise<Session | undefined> {
  sessionNumber += 1;
  const name = `${mechanism.id}-${sessionNumber}`;
  const peerArgs = [mechanism.id, plan];
  const stdio = (extra: "ipc" | number | undefined) =>
    ["inherit", "pipe", "inherit", ...(extra === undefined ? [] : [extra])] as (
      | "inherit"
      | "pipe"
      | "ipc"
      | number
    )[];
  const node = (args: string[], extra?: "ipc" | number, serialization?: "json" | "advanced") =>
    spawn(process.execPath, [PEER, ...args], { stdio: stdio(extra), serialization });
  let child: ChildProcess;
  let link: Link;
  let cleanup: (() => Promise<void>) | undefined;
  switch (mechanism.transport) {
    case "ipc-pipe": {
      const piped = await forkWithPipes(PEER, peerArgs, {
        pipes: [{ codec: mechanism.codec! }],
        stdio: ["inherit", "pipe", "inherit"],
      });
      child = piped.process;
      link = mechanism.link({ channel: piped.channel() });
      break;
    }
    case "unix-socket":
    case "tcp-socket": {
      const server = createServer();
      if (mechanism.transport === "unix-socket") server.listen(join(workDir, `${name}.sock`));
      else server.listen(0, "127.0.0.1");
      await once(server, "listening");
      const bound = server.address();
      child = node([...peerArgs, typeof bound === "string" ? bound : `127.0.0.1:${bound!.port}`]);
      const [socket] = (await once(server, "connection")) as [Socket];
      socket.setNoDelay(true);
      server.close();
      link = mechanism.link({ socket });
      break;
    }
    case "ipc-fifo": {
      const toPeer = join(workDir, `${name}-to-peer.fifo`);
      const toParent = join(workDir, `${name}-to-parent.fifo`);
      await Promise.all([createFifo(toPeer), createFifo(toParent)]);
      child = node([...peerArgs, `${toPeer},${toParent}`]);
      link = mechanism.link({
        channel: await openFifoChannel(toParent, toPeer, { codec: mechanism.codec!, timeout: 30_000 }),
      });
      break;
    }
    case "ipc-shm": {
      const channel = createShmChannel({ codec: mechanism.codec!, spin: mechanism.spin });
      child = node(peerArgs, channel.fd!);
      link = mechanism.link({ channel });
      break;
    }
    case "ipc-socket-unix":
    case "ipc-socket-tcp": {
      const where = mechanism.transport === "ipc-socket-unix" ? join(workDir, `${name}.sock`) : ":0";
      const listener = await listen(where, { codec: mechanism.codec! });
      child = node([...peerArgs, listener.address]);
      link = mechanism.link({ channel: await listener.accept() });
      cleanup = () => listener.close({ graceful: false });
      break;
    }
    case "zeromq": {
      const path = join(workDir, `${name}.zmq`);
      const external = await zeromqListen(path);
      if (external === undefined) return undefined;
      child = node([...peerArgs, path]);
      link = mechanism.link({ external });
      break;
    }
    case "node-ipc": {
      const path = join(workDir, `${name}.ipc`);
      let connected: (link: Link) => void = () => {};
      const accepted = new Promise<Link>((resolve) => (connected = resolve));
      if (!nodeIpcServe(path, connected)) return undefined;
      child = node([...peerArgs, path]);
      link = mechanism.link({ external: await accepted });
      break;
    }
    default:
      child = node(peerArgs, "ipc", mechanism.transport === "fork-advanced" ? "advanced" : "json");
      link = mechanism.link({ process: child });
  }
  pin(child.pid, PEER_CPU);
  await link.receive(); // the peer's "ready"
  return { link, child, reports: jsonLines(child), cleanup };
}

async function* jsonLines(child: ChildProcess): AsyncGenerator<{ cpuUs: number }> {
  let text = "";
  for await (const chunk of child.stdout!.setEncoding("utf8")) {
    text += chunk;
    for (let newline = text.indexOf("\n"); newline >= 0; newline = text.indexOf("\n")) {
      yield JSON.parse(text.slice(0, newline)) as { cpuUs: number };
      text = text.slice(newline + 1);
    }
  }
}

const cpuNow = mainThreadCpuUs;

/**
 * Seconds to send `count` messages, until the peer acknowledges them all, after a warm-up of at least
 * `warmUp` messages and `mode.warmupMs` ended by `marker` (which the peer acknowledges).
 */
async function oneWay(
  link: Link,
  warmUp: number,
  count: number,
  message: (i: number) => unknown,
  marker: unknown,
): Promise<number> {
  const warmUntil = performance.now() + mode.warmupMs;
  for (let i = 0; i < warmUp || performance.now() < warmUntil; i += 1) await link.send(message(i));
  await link.send(marker);
  await link.receive();
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i += 1) await link.send(message(i));
  await link.receive();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** One session of `mechanism`: round trips, small messages one way, 1 MiB messages one way. */
async function measure(mechanism: Mechanism): Promise<Sample | undefined> {
  const small = Math.max(100, Math.round(mode.oneWay * (mechanism.smallScale ?? 1)));
  const plan = [
    `echo:${mode.roundTrips}`,
    `sink:${small}`,
    ...(mechanism.large ? [`sink:${mode.large}`] : []),
    ...(mechanism.handler ? [`work:${mode.warmup}+${handlerTrips}`] : []),
  ].join(",");
  const session = await startPeer(mechanism, plan);
  if (session === undefined) return undefined;
  const { link } = session;
  const report = async () => (await session.reports.next()).value as { cpuUs: number };
  // Every row warms up for the same time (and at least `warmup` round trips), so that a fast mechanism is
  // measured with its code optimized as in a long-running process, not mid-way through the JIT's work;
  // then a marker message tells the peer that the timed part starts.
  const warmUntil = performance.now() + mode.warmupMs;
  for (let i = 0; i < mode.warmup || performance.now() < warmUntil; i += 1) {
    await link.send(smallMessage(mechanism, i));
    await link.receive();
  }
  await link.send(markerMessage(mechanism));
  await link.receive();
  const samples = new Float64Array(mode.roundTrips);
  const cpuAt = cpuNow();
  for (let i = 0; i < mode.roundTrips; i += 1) {
    const start = process.hrtime.bigint();
    await link.send(smallMessage(mechanism, i));
    await link.receive();
    samples[i] = Number(process.hrtime.bigint() - start) / 1000;
  }
  const cpuUs = cpuNow() - cpuAt + (await report()).cpuUs;
  const sorted = Array.from(samples).sort((a, b) => a - b);
  const smallSeconds = await oneWay(
    link,
    Math.ceil(small / 5),
    small,
    (i) => smallMessage(mechanism, i),
    markerMessage(mechanism),
  );
  await report();
  let largeBytesPerSecond: number | undefined;
  if (mechanism.large) {
    const payload = Buffer.alloc(MIB, 7);
    // A warm-up of at least as many 1 MiB messages as are timed and 100 ms, for every row alike: a fresh
    // process's first large buffers come from new pages (glibc raises its mmap threshold only once the GC
    // has freed some), and a standalone shm test moved its first 200 MiB at a third of the later rate.
    const seconds = await oneWay(link, mode.large, mode.large, () => payload, markerMessage(mechanism));
    largeBytesPerSecond = (mode.large * MIB) / seconds;
    await report();
  }
  let handler: { p50: number; p99: number } | undefined;
  if (mechanism.handler) {
    handler = await roundTrips(link, mechanism, handlerTrips);
    await report();
  }
  const exited = session.child.exitCode === null ? once(session.child, "exit") : Promise.resolve();
  await link.close();
  await exited;
  await session.cleanup?.();
  return {
    rttP50Us: quantile(sorted, 0.5),
    rttP99Us: quantile(sorted, 0.99),
    cpuPerRttUs: cpuUs / mode.roundTrips,
    smallPerSecond: small / smallSeconds,
    largeBytesPerSecond,
    handlerP50Us: handler?.p50,
    handlerP99Us: handler?.p99,
  };
}

/** Round trips (after a warm-up) of a small message: p50 and p99 in µs. */
async function roundTrips(
  link: Link,
  mechanism: Mechanism,
  count: number,
): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < mode.warmup; i += 1) {
    await link.send(smallMessage(mechanism, i));
    await link.receive();
  }
  const samples: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const start = process.hrtime.bigint();
    await link.send(smallMessage(mechanism, i));
    await link.receive();
    samples.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  samples.sort((a, b) => a - b);
  return { p50: quantile(samples, 0.5), p99: quantile(samples, 0.99) };
}

/** SIGUSR2 to a peer that answers with SIGUSR2: the round trip of a signal between two processes (µs, p50). */
async function signalRoundTrip(): Promise<number> {
  const child = spawn(process.execPath, [here("./signal-echo.js")], {
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
  const samples: number[] = [];
  for (let i = 0; i < mode.roundTrips / 10; i += 1) {
    const start = process.hrtime.bigint();
    await roundTrip();
    samples.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  stop();
  child.kill("SIGTERM");
  await once(child, "exit");
  return quantile(
    samples.sort((a, b) => a - b),
    0.5,
  );
}

function commit(): string | undefined {
  try {
    const id = execFileSync("git", ["rev-parse", "--short", "HEAD"], { stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
    const dirty =
      execFileSync("git", ["status", "--porcelain", "--untracked-files=no"]).toString().trim() !== "";
    return dirty ? `${id}+changes` : id;
  } catch {
    return undefined;
  }
}

pin(process.pid, PARENT_CPU);
const started = performance.now();
const loadBefore = loadavg();
let selected = flags.only ? MECHANISMS.filter((m) => flags.only!.split(",").includes(m.id)) : MECHANISMS;
const wantsExternal = selected.some((m) => m.transport === "zeromq" || m.transport === "node-ipc");
const skipped: string[] = [];
if (wantsExternal && (flags["no-external"] || !installExternal())) {
  skipped.push(
    flags["no-external"]
      ? "zeromq and node-ipc (--no-external)"
      : "zeromq and node-ipc: installing them into benchmarks/external with npm failed (offline?)",
  );
  selected = selected.filter((m) => m.transport !== "zeromq" && m.transport !== "node-ipc");
}
console.error(
  `@ipc benchmarks (${modeName}, ${rounds} round(s), ${selected.length} mechanisms): Node ${process.version}, ${pinning ? `bench on CPU ${PARENT_CPU}, peers on CPU ${PEER_CPU}` : "not pinned"}`,
);
const samples = new Map<string, Sample[]>();
let floors: Floors | undefined;
let signalUs: number | undefined;
try {
  for (let round = 0; round < rounds; round += 1) {
    const order = [...selected.slice(round % selected.length), ...selected.slice(0, round % selected.length)];
    for (const mechanism of order) {
      const t0 = performance.now();
      const sample = await measure(mechanism);
      if (process.env.BENCH_TIMES)
        process.stderr.write(`${mechanism.id} ${Math.round(performance.now() - t0)}ms\n`);
      if (sample === undefined) {
        if (!skipped.some((line) => line.startsWith(mechanism.id)))
          skipped.push(`${mechanism.id}: not available`);
        continue;
      }
      samples.set(mechanism.id, [...(samples.get(mechanism.id) ?? []), sample]);
      process.stderr.write(".");
    }
    process.stderr.write(` round ${round + 1}\n`);
  }
  if (!flags.only) {
    floors = await measureFloors({ workDir, quick: flags.quick, pinned: pinning });
    skipped.push(...floors.skipped);
    signalUs = await signalRoundTrip();
  }
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
const summary: Summary = summarize({
  mode: modeName,
  rounds,
  counts: mode,
  samples,
  floors,
  signalUs,
  skipped,
  environment: {
    node: process.version,
    commit: commit(),
    date: new Date().toISOString(),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryBytes: totalmem(),
    loadBefore,
    loadAfter: loadavg(),
    pinned: pinning ? { bench: PARENT_CPU, peers: PEER_CPU } : undefined,
    seconds: (performance.now() - started) / 1000,
  },
});
const markdown = renderMarkdown(summary);
console.log(markdown);
const results = fileURLToPath(new URL("../results/", import.meta.url));
const jsonFile = flags.json ?? (flags.save ? `${results}bench.json` : undefined);
const mdFile = flags.md ?? (flags.save ? `${results}bench.md` : undefined);
const svgFile = flags.svg ?? (flags.save ? `${results}bench.svg` : undefined);
if (jsonFile) writeFileSync(jsonFile, `${JSON.stringify(summary, null, 2)}\n`);
if (mdFile) writeFileSync(mdFile, markdown);
if (svgFile) writeFileSync(svgFile, renderSvg(summary));
if (flags.save) writeFileSync(`${results}bench-shm.md`, renderShmMarkdown(summary));
