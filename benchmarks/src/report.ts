// The benchmark's summary (what the JSON results file holds) and its Markdown (what the README shows,
// copied there by scripts/sync-bench.mjs): medians over rounds with ranges, ratios to each row's baseline,
// the floors, and the performance targets the project set itself, met or not.
import type { Floors } from "./floors.js";
import { MECHANISMS } from "./mechanisms.js";
import type { Sample } from "./session.js";
import { formatNumber, quantile } from "./stats.js";

/** A metric over the rounds. */
export interface Stat {
  median: number;
  min: number;
  max: number;
  samples: number[];
}

export interface Row {
  id: string;
  label: string;
  baseline: string;
  rttP50Us: Stat;
  rttP99Us: Stat;
  cpuPerRttUs: Stat;
  smallPerSecond: Stat;
  largeBytesPerSecond?: Stat;
  handlerP50Us?: Stat;
  handlerP99Us?: Stat;
  /** Ratios of medians to the baseline's: rtt = its p50 / ours (above 1: faster); cpu = ours / its; small, large = ours / its. */
  vsBaseline: { rtt?: number; cpu?: number; small?: number; large?: number };
}

export interface Target {
  name: string;
  measured: string;
  met: boolean | undefined;
}

export interface Summary {
  mode: string;
  rounds: number;
  counts: Record<string, number>;
  environment: Record<string, unknown>;
  rows: Row[];
  floors: Floors | undefined;
  signalUs: number | undefined;
  targets: Target[];
  skipped: string[];
}

function stat(values: number[]): Stat {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: quantile(sorted, 0.5), min: sorted[0]!, max: sorted.at(-1)!, samples: values };
}

function optionalStat(values: (number | undefined)[]): Stat | undefined {
  const present = values.filter((value): value is number => value !== undefined);
  return present.length > 0 ? stat(present) : undefined;
}

export function summarize(input: {
  mode: string;
  rounds: number;
  counts: Record<string, number>;
  samples: Map<string, Sample[]>;
  floors: Floors | undefined;
  signalUs: number | undefined;
  skipped: string[];
  environment: Record<string, unknown>;
}): Summary {
  const rows: Row[] = [];
  for (const mechanism of MECHANISMS) {
    const samples = input.samples.get(mechanism.id);
    if (samples === undefined) continue;
    const large = samples.flatMap((s) =>
      s.largeBytesPerSecond === undefined ? [] : [s.largeBytesPerSecond],
    );
    rows.push({
      id: mechanism.id,
      label: mechanism.label,
      baseline: mechanism.baseline,
      rttP50Us: stat(samples.map((s) => s.rttP50Us)),
      rttP99Us: stat(samples.map((s) => s.rttP99Us)),
      cpuPerRttUs: stat(samples.map((s) => s.cpuPerRttUs)),
      smallPerSecond: stat(samples.map((s) => s.smallPerSecond)),
      largeBytesPerSecond: large.length > 0 ? stat(large) : undefined,
      handlerP50Us: optionalStat(samples.map((s) => s.handlerP50Us)),
      handlerP99Us: optionalStat(samples.map((s) => s.handlerP99Us)),
      vsBaseline: {},
    });
  }
  const byId = new Map(rows.map((row) => [row.id, row]));
  for (const row of rows) {
    const base = byId.get(row.baseline);
    if (base === undefined) continue;
    row.vsBaseline = {
      rtt: base.rttP50Us.median / row.rttP50Us.median,
      cpu: row.cpuPerRttUs.median / base.cpuPerRttUs.median,
      small: row.smallPerSecond.median / base.smallPerSecond.median,
      large:
        row.largeBytesPerSecond && base.largeBytesPerSecond
          ? row.largeBytesPerSecond.median / base.largeBytesPerSecond.median
          : undefined,
    };
  }
  return { ...input, rows, targets: targets(byId, input.floors) } as Summary;
}

/**
 * A saved summary with its labels and targets worked out again by this code (its measurements as they
 * were): `render.ts` re-renders the committed results after a change of wording.
 */
export function relabel(summary: Summary): Summary {
  const labels = new Map(MECHANISMS.map((mechanism) => [mechanism.id, mechanism.label]));
  const rows = summary.rows.map((row) => ({ ...row, label: labels.get(row.id) ?? row.label }));
  return { ...summary, rows, targets: targets(new Map(rows.map((row) => [row.id, row])), summary.floors) };
}

/** The targets of the performance issue, from this run's medians. */
function targets(rows: Map<string, Row>, floors: Floors | undefined): Target[] {
  const list: Target[] = [];
  const rtt = (id: string) => rows.get(id)?.rttP50Us.median;
  const add = (
    name: string,
    value: number | undefined,
    text: (v: number) => string,
    ok: (v: number) => boolean,
  ) =>
    list.push({
      name,
      measured: value === undefined ? "not measured" : text(value),
      met: value === undefined ? undefined : ok(value),
    });
  const ratio = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? undefined : a / b;
  const x = (v: number) => `${v.toFixed(2)}×`;
  add(
    "shm, no spin: round trip ≤ the corked hand-written socket's",
    ratio(rtt("shm-bytes-sleep"), rtt("net-cork")),
    x,
    (v) => v <= 1,
  );
  add(
    "shm, default: round trip ≤ 1.5× spinning mode's (spin 1 ms)",
    ratio(rtt("shm-bytes"), rtt("shm-bytes-spin")),
    x,
    (v) => v <= 1.5,
  );
  const handler = (id: string) => rows.get(id);
  add(
    "shm, default: request/response with a 50 µs handler, p50 ≤ the corked hand-written socket's",
    ratio(handler("shm-bytes")?.handlerP50Us?.median, handler("net-cork")?.handlerP50Us?.median),
    x,
    (v) => v <= 1,
  );
  add(
    "shm, default: request/response with a 50 µs handler, p99 ≤ the corked hand-written socket's",
    ratio(handler("shm-bytes")?.handlerP99Us?.median, handler("net-cork")?.handlerP99Us?.median),
    x,
    (v) => v <= 1,
  );
  add(
    "shm, spinning (spin 1 ms): round trip ≤ 3× the C shared-memory floor",
    ratio(rtt("shm-bytes-spin"), floors?.cShmSpinRttUs),
    x,
    (v) => v <= 3,
  );
  add(
    "shm, polled (trySend/tryReceive): round trip ≤ 3× the C shared-memory floor",
    ratio(rtt("shm-bytes-poll"), floors?.cShmSpinRttUs),
    x,
    (v) => v <= 3,
  );
  add(
    "shm, default: 1 MiB messages ≥ 2× the corked hand-written socket",
    rows.get("shm-bytes")?.vsBaseline.large,
    x,
    (v) => v >= 2,
  );
  for (const [id, mode] of [
    ["shm-bytes", "default"],
    ["shm-bytes-poll", "polled"],
  ] as const) {
    add(
      `shm, ${mode}: 64-byte messages one way ≥ 3 M/s`,
      rows.get(id)?.smallPerSecond.median,
      (v) => `${formatNumber(v)}/s`,
      (v) => v >= 3e6,
    );
  }
  const zeromq = rows.get("zeromq")?.largeBytesPerSecond?.median;
  for (const id of ["pipe-bytes", "socket-unix-bytes", "fifo-bytes"]) {
    const row = rows.get(id);
    add(
      `${row?.label ?? id}: 1 MiB one way ≥ 0.9× the hand-written socket`,
      row?.vsBaseline.large,
      x,
      (v) => v >= 0.9,
    );
    if (zeromq !== undefined)
      add(
        `${row?.label ?? id}: 1 MiB one way ahead of zeromq`,
        ratio(row?.largeBytesPerSecond?.median, zeromq),
        x,
        (v) => v > 1,
      );
  }
  for (const id of ["pipe-bytes", "socket-unix-bytes", "pipe-json", "socket-unix-json"]) {
    const row = rows.get(id);
    const rttRatio = row?.vsBaseline.rtt === undefined ? undefined : 1 / row.vsBaseline.rtt;
    add(
      `${row?.label ?? id}: round trip ≤ 1.05× the hand-written socket's (same codec)`,
      rttRatio,
      x,
      (v) => v <= 1.05,
    );
    add(
      `${row?.label ?? id}: CPU per round trip ≤ 1.1× the hand-written socket's`,
      row?.vsBaseline.cpu,
      x,
      (v) => v <= 1.1,
    );
  }
  return list;
}

const mb = (bytesPerSecond: number | undefined) =>
  bytesPerSecond === undefined ? undefined : bytesPerSecond / 1e6;
const ranged = (s: Stat | undefined, scale: (v: number) => number | undefined = (v) => v) =>
  s === undefined
    ? "—"
    : `${formatNumber(scale(s.median))} (${formatNumber(scale(s.min))}–${formatNumber(scale(s.max))})`;
/** "(30,000 for a and b; 20,000 for c)": the mechanisms that send fewer small messages one way. */
function scaledCounts(oneWay: number): string {
  const byCount = new Map<number, string[]>();
  for (const mechanism of MECHANISMS) {
    if (mechanism.smallScale === undefined) continue;
    const count = Math.max(100, Math.round(oneWay * mechanism.smallScale));
    byCount.set(count, [...(byCount.get(count) ?? []), mechanism.label]);
  }
  if (byCount.size === 0) return "";
  const parts = [...byCount].map(([count, labels]) => `${formatNumber(count)} for ${labels.join(" and ")}`);
  return ` (${parts.join("; ")}, so that they take a similar time)`;
}
const times = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? "—" : `${v.toFixed(2)}×`);

export function renderMarkdown(summary: Summary): string {
  const env = summary.environment;
  const lines = [
    `\`pnpm bench\` (${summary.mode}): ${summary.rounds} interleaved round(s), medians (min–max over rounds); Node ${env.node}, ${env.cpus} × ${env.cpuModel}${env.kernel ? ` (Linux ${env.kernel}${env.virtualized ? `, ${env.virtualized}` : ""})` : ""}, ${env.pinned ? "main threads pinned (every bench side's to CPU 0, every peer's to CPU 1), the threads each process starts with (V8's compiler and GC workers) on the other process's CPU, where they take turns with its main thread; threads made later (libuv's pool, libzmq's I/O threads) on their own main thread's CPU" : "not pinned"}, load ${(env.loadBefore as number[])[0]!.toFixed(2)} before / ${(env.loadAfter as number[])[0]!.toFixed(2)} after, commit ${env.commit ?? "unknown"}, ${Math.round(env.seconds as number)} s.`,
    "Each mechanism runs in two processes of its own, up for the whole run as the two ends of a long-running program would be (the bench side runs only that mechanism's code, as a user's program does); each round measures every mechanism once, in an order shuffled for each round (seeded: the same in every run). Round 1 runs on freshly started processes, later rounds on processes that have run before; the ranges include both.",
    `Round trips: ${summary.counts.roundTrips} of one small message (64 bytes, or a 4-field object for JSON rows) per round; one way: ${formatNumber(summary.counts.oneWay)} small messages${scaledCounts(summary.counts.oneWay!)}, ${summary.counts.large} of 1 MiB; the 50 µs-handler phase: ${formatNumber(summary.counts.roundTrips! / 2)} requests. Each phase warms up first, for at least ${summary.counts.warmupMs} ms in a mechanism's first round (${summary.counts.rewarmMs ?? summary.counts.warmupMs} ms in later ones, on processes already warm) and at least ${summary.counts.warmup} round trips, a fifth of the timed small messages, as many 1 MiB ones as are timed, ${summary.counts.warmup} handler requests. Round trips are timed one by one (process.hrtime); p99 is over the round's round trips. Each row's ratios are of medians, to its baseline (same payload and codec; child_process (advanced) is compared with the JSON socket, as no hand-written baseline uses V8 serialization): "vs base" above 1 is better in every column, the CPU one included (the baseline's CPU ÷ this row's). CPU µs/RTT is the main threads of both processes, from the kernel's scheduler statistics, over the timed round trips ÷ their number, so it compares with the mean round trip, which a few slow ones make longer than the p50 (two spinning ends are both on a CPU for all of it). V8's helper threads are left out: their work comes and goes with the JIT and the GC, and made process-wide CPU swing between runs; so are libzmq's I/O threads, which carry zeromq's messages. Baselines: net-cork is the corked hand-written Unix socket (bytes), net-cork-json the same carrying JSON, net-cork-tcp the same over TCP loopback. MB/s is 10^6 bytes a second.`,
    "",
    "| mechanism | RTT p50 µs | vs base | CPU µs/RTT | vs base | small msgs/s | vs base | 1 MiB MB/s | vs base | baseline |",
    "|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const row of summary.rows) {
    lines.push(
      `| ${row.label} | ${ranged(row.rttP50Us)} | ${times(row.vsBaseline.rtt)} | ${formatNumber(row.cpuPerRttUs.median)} | ${times(row.vsBaseline.cpu === undefined ? undefined : 1 / row.vsBaseline.cpu)} | ${ranged(row.smallPerSecond)} | ${times(row.vsBaseline.small)} | ${ranged(row.largeBytesPerSecond, mb)} | ${times(row.vsBaseline.large)} | ${row.baseline === row.id ? "(itself)" : row.baseline} |`,
    );
  }
  const floors = summary.floors;
  if (floors !== undefined) {
    lines.push(
      "",
      "Floors, same run: " +
        [
          floors.cSocketpairRttUs !== undefined &&
            `C socketpair ping-pong ${formatNumber(floors.cSocketpairRttUs)} µs, 1 MiB one way ${formatNumber(mb(floors.cSocketpairBytesPerSecond))} MB/s`,
          floors.cShmSpinRttUs !== undefined &&
            `C shared-memory spinning ping-pong ${formatNumber(floors.cShmSpinRttUs)} µs`,
          floors.jsShmSpinRttUs !== undefined &&
            `the same in JavaScript (bare Atomics on a segment; it does what the C one does, so the two differ by noise) ${formatNumber(floors.jsShmSpinRttUs)} µs, ${formatNumber(floors.jsShmCopyRttUs)} µs copying a 64-byte message out each way`,
          floors.pythonRttUs !== undefined &&
            `${floors.python} multiprocessing.Pipe ping-pong ${formatNumber(floors.pythonRttUs)} µs, ${formatNumber(floors.pythonSmallPerSecond)} small msgs/s, 1 MiB ${formatNumber(mb(floors.pythonBytesPerSecond))} MB/s`,
        ]
          .filter(Boolean)
          .join("; ") +
        ".",
    );
  }
  const handled = summary.rows.filter((row) => row.handlerP50Us !== undefined);
  if (handled.length > 0) {
    lines.push(
      "",
      "Request/response whose handler takes 50 µs of CPU (round trip, µs):",
      "",
      "| mechanism | p50 | p99 |",
      "|---|---|---|",
    );
    for (const row of handled)
      lines.push(`| ${row.label} | ${ranged(row.handlerP50Us)} | ${ranged(row.handlerP99Us)} |`);
  }
  if (summary.signalUs !== undefined)
    lines.push(
      "",
      `A signal there and back (SIGUSR2, @ipc/signal): ${formatNumber(summary.signalUs)} µs p50.`,
    );
  const measured = summary.targets.filter((target) => target.met !== undefined);
  lines.push(
    "",
    `Targets (from the performance issue), this run: ${measured.filter((target) => target.met).length} of ${measured.length} met. A ratio here is this row's value ÷ the reference the target names (so below 1 is better for a "≤" target, above 1 for a "≥"), the inverse of the table's "vs base" for round trips and CPU; a ratio within a few percent of its bound is within this machine's run-to-run noise (see each row's range above).`,
    "",
    "| target | measured | met |",
    "|---|---|---|",
  );
  for (const target of summary.targets)
    lines.push(
      `| ${target.name} | ${target.measured} | ${target.met === undefined ? "—" : target.met ? "yes" : "**no**"} |`,
    );
  if (summary.skipped.length > 0) lines.push("", `Skipped: ${summary.skipped.join("; ")}.`);
  return `${lines.join("\n")}\n`;
}

/** The shared-memory rows with their baselines and floor, for @ipc/shm's README. */
export function renderShmMarkdown(summary: Summary): string {
  const ids = [
    "shm-bytes-poll",
    "shm-bytes-spin",
    "shm-bytes",
    "shm-bytes-sleep",
    "net-cork",
    "net-naive",
    "pipe-bytes",
    "cp-json",
  ];
  const lines = [
    `From \`pnpm bench\` (${summary.rounds} interleaved rounds, medians; Node ${summary.environment.node}, ${summary.environment.cpus} CPUs, commit ${summary.environment.commit ?? "unknown"}); 64-byte messages, ratios to the corked hand-written Unix socket:`,
    "",
    "| | RTT p50 µs | RTT p99 µs | CPU µs/RTT | small msgs/s | 1 MiB MB/s | 1 MiB vs socket | 50 µs handler: RTT p50 / p99 µs |",
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const id of ids) {
    const row = summary.rows.find((r) => r.id === id);
    if (row === undefined) continue;
    lines.push(
      `| ${row.label} | ${formatNumber(row.rttP50Us.median)} | ${formatNumber(row.rttP99Us.median)} | ${formatNumber(row.cpuPerRttUs.median)} | ${formatNumber(row.smallPerSecond.median)} | ${formatNumber(mb(row.largeBytesPerSecond?.median))} | ${times(row.largeBytesPerSecond === undefined ? undefined : row.vsBaseline.large)} | ${row.handlerP50Us === undefined ? "—" : `${formatNumber(row.handlerP50Us.median)} / ${formatNumber(row.handlerP99Us?.median)}`} |`,
    );
  }
  if (summary.floors?.cShmSpinRttUs !== undefined)
    lines.push(
      "",
      `Floors, same run: a C program spinning on shared memory, ${formatNumber(summary.floors.cShmSpinRttUs)} µs a round trip; the same in JavaScript with bare \`Atomics\`, ${formatNumber(summary.floors.jsShmSpinRttUs)} µs, and ${formatNumber(summary.floors.jsShmCopyRttUs)} µs copying a 64-byte message out on each side.`,
    );
  return `${lines.join("\n")}\n`;
}
