// `pnpm bench [--quick | --long] [--only id,id] [--rounds n] [--save] [--json f] [--md f] [--svg f]
// [--no-pin] [--no-external]` (BENCH_TIMES=1 prints how long each session took): every mechanism two Node processes can talk through, side by
// side in one run, measured on the built packages (this file runs compiled, from dist/, so peers start as
// plain Node). Each mechanism runs in a pair of processes of its own, up for the whole run as the two ends of
// a long-running program would be: a driver (driver.ts, the bench side) and its peer (peer.ts). Each
// mechanism runs once per round, rounds interleave the mechanisms (in an order shuffled for each round),
// and the tables give medians over rounds with their ranges. Ratios are to the fairest baseline for each
// row: a hand-written socket with the same payload and codec (see mechanisms.ts). Floors beside them:
// Python's multiprocessing.Pipe and a C socketpair / shared-memory ping-pong.
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { onSignal, sendSignal } from "@ipc/signal";
import { DriverProcess } from "./driver-process.js";
import { installExternal } from "./external.js";
import { type Floors, measureFloors } from "./floors.js";
import { MECHANISMS } from "./mechanisms.js";
import { MODES } from "./modes.js";
import { BENCH_CPU, canPin, PEER_CPU, pin } from "./pinning.js";
import { renderMarkdown, renderShmMarkdown, type Summary, summarize } from "./report.js";
import type { Sample } from "./session.js";
import { quantile } from "./stats.js";
import { renderSvg } from "./svg.js";

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

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
const rounds = Number(flags.rounds ?? mode.rounds);
const workDir = mkdtempSync(join(tmpdir(), "ipc-bench-"));

const pinning = !flags["no-pin"] && canPin();

/** SIGUSR2 to a peer that answers with SIGUSR2: the round trip of a signal between two processes (µs, p50). */
async function signalRoundTrip(): Promise<number> {
  const child = spawn(process.execPath, [here("./signal-echo.js")], {
    stdio: ["inherit", "pipe", "inherit"],
  });
  if (pinning) {
    pin(child.pid, PEER_CPU);
    // Only now: children inherit the spawning thread's CPUs (drivers and this peer keep their helper threads free).
    pin(process.pid, BENCH_CPU);
  }
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

/**
 * The mechanisms in the order of round `round`: a shuffle seeded by the round's number (so every run uses
 * the same orders), so that no row always runs right after the same other row.
 */
function shuffled<T>(items: readonly T[], round: number): T[] {
  const order = [...items];
  let state = round * 0x9e3779b9;
  const random = () => {
    // mulberry32
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  for (let i = order.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** True when the CPU says it runs under a hypervisor (Linux's "hypervisor" flag). */
function runsVirtualized(): boolean {
  try {
    return /\bhypervisor\b/.test(readFileSync("/proc/cpuinfo", "utf8"));
  } catch {
    return false;
  }
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
  `@ipc benchmarks (${modeName}, ${rounds} round(s), ${selected.length} mechanisms): Node ${process.version}, ${pinning ? `bench sides on CPU ${BENCH_CPU}, peers on CPU ${PEER_CPU}` : "not pinned"}`,
);
const samples = new Map<string, Sample[]>();
let floors: Floors | undefined;
let signalUs: number | undefined;
const drivers = new Map<string, DriverProcess>();
const failed = new Set<string>();
try {
  for (let round = 0; round < rounds; round += 1) {
    for (const mechanism of shuffled(selected, round + 1)) {
      if (failed.has(mechanism.id)) continue;
      const t0 = performance.now();
      let driver = drivers.get(mechanism.id);
      if (driver === undefined) {
        driver = DriverProcess.start(mechanism, { modeName, rounds, workDir, pinned: pinning });
        drivers.set(mechanism.id, driver);
      }
      let sample: Sample | undefined;
      try {
        sample = await driver.round();
      } catch (error) {
        // One row that fails (its peer died, say) is left out of the tables, with the reason; the rest go on.
        failed.add(mechanism.id);
        samples.delete(mechanism.id);
        skipped.push(`${mechanism.id}: failed in round ${round + 1}: ${(error as Error).message}`);
        process.stderr.write(`\n${skipped.at(-1)}\n`);
        driver.kill();
        continue;
      }
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
  await Promise.all([...drivers.values()].map((driver) => driver.close()));
  drivers.clear();
  if (!flags.only) {
    floors = await measureFloors({ workDir, quick: flags.quick, pinned: pinning });
    skipped.push(...floors.skipped);
    signalUs = await signalRoundTrip();
  }
} finally {
  await Promise.all([...drivers.values()].map((driver) => driver.close()));
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
    kernel: release(),
    virtualized: runsVirtualized() ? "a virtual machine" : undefined,
    memoryBytes: totalmem(),
    loadBefore,
    loadAfter: loadavg(),
    pinned: pinning ? { bench: BENCH_CPU, peers: PEER_CPU } : undefined,
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
