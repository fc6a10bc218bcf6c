// One mechanism's side of `pnpm bench`: its peer process, connected, and what one round measures over
// that connection. The driver (driver.ts) runs it in a process of its own.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createFifo, openFifoChannel } from "@ipc/fifo";
import { forkWithPipes } from "@ipc/pipe";
import { createShmChannel } from "@ipc/shm";
import { listen } from "@ipc/socket";
import { mainThreadCpuUs } from "./cpu.js";
import { nodeIpcServe, zeromqListen } from "./external-links.js";
import { fullGc } from "./full-gc.js";
import { type Link, sendAll } from "./link.js";
import { type Mechanism, markerMessage, smallMessage } from "./mechanisms.js";
import type { Mode } from "./modes.js";
import { quantile } from "./stats.js";

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

/** How a session is measured: the mode, its number of rounds, where sockets and FIFOs go, and pinning. */
export interface SessionSettings {
  mode: Mode;
  rounds: number;
  workDir: string;
  pinned: boolean;
}

/** A mechanism's peer, connected and running its plan for every round. */
export interface Session {
  mechanism: Mechanism;
  settings: SessionSettings;
  connection: PeerConnection;
  /** Rounds measured so far. */
  rounds: number;
  /** What the current round is doing (said on stderr when run.ts gives up on a round). */
  step: string;
}

interface PeerConnection {
  link: Link;
  child: ChildProcess;
  /** The peer's report after each phase: its CPU time over the timed part. */
  reports: AsyncIterator<{ cpuUs: number }>;
  cleanup?: () => Promise<void>;
}

const MIB = 1024 * 1024;
const PEER = fileURLToPath(new URL("./peer.js", import.meta.url));
const cpuNow = mainThreadCpuUs;

/** Small messages one way per round for `mechanism`. */
function smallCount(mode: Mode, mechanism: Mechanism): number {
  return Math.max(100, Math.round(mode.oneWay * (mechanism.smallScale ?? 1)));
}

/** Round trips of the request/response rows whose handler takes 50 µs (each costs at least that). */
function handlerTrips(mode: Mode): number {
  return Math.round(mode.roundTrips / 2);
}

/**
 * Starts the peer of `mechanism`, connected, with the plan of every round (it stays up for all of them, as
 * the other end of a long-running program would); undefined when the mechanism is unavailable.
 */
export async function openSession(
  mechanism: Mechanism,
  settings: SessionSettings,
): Promise<Session | undefined> {
  const { mode } = settings;
  const round = [
    `echo:${mode.roundTrips}`,
    `sink:${smallCount(mode, mechanism)}`,
    ...(mechanism.large ? [`sink:${mode.large}`] : []),
    ...(mechanism.handler ? [`work:${mode.warmup}+${handlerTrips(mode)}`] : []),
    "gc:0",
  ].join(",");
  const plan = Array.from({ length: settings.rounds }, () => round).join(",");
  const connection = await startPeer(mechanism, plan, settings);
  return connection === undefined
    ? undefined
    : { mechanism, settings, connection, rounds: 0, step: "connected" };
}

/** Peers whose exit is expected (their session is closing). */
const closing = new WeakSet<ChildProcess>();

/**
 * A peer that exits before its session closes ends this process with a message that names the mechanism
 * (some links would otherwise wait for its next message for ever); a peer still running when this process
 * exits is killed.
 */
function watchPeer(mechanism: Mechanism, child: ChildProcess): void {
  const exited = (code: number | null, signal: NodeJS.Signals | null) => {
    if (closing.has(child)) return;
    process.stderr.write(
      `bench: the ${mechanism.id} peer exited (code ${code}, signal ${signal}) mid-session\n`,
    );
    process.exit(1);
  };
  if (child.exitCode !== null || child.signalCode !== null) exited(child.exitCode, child.signalCode);
  child.once("exit", exited);
  process.once("exit", () => child.kill("SIGKILL"));
}

/** Closes the connection and waits (at most 10 s, then kills it) for the peer to exit. */
export async function closeSession(session: Session): Promise<void> {
  const { link, child, cleanup } = session.connection;
  closing.add(child);
  const exited =
    child.exitCode === null && child.signalCode === null ? once(child, "exit") : Promise.resolve();
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await link.close();
  await exited;
  clearTimeout(timer);
  await cleanup?.();
}

/** Starts the peer of `mechanism` running `plan`, connected; undefined when the mechanism is unavailable. */
async function startPeer(
  mechanism: Mechanism,
  plan: string,
  settings: SessionSettings,
): Promise<PeerConnection | undefined> {
  const { workDir } = settings;
  const name = mechanism.id;
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
  watchPeer(mechanism, child);
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

/**
 * Seconds to send `count` messages, until the peer acknowledges them all, after a warm-up of at least
 * `warmUp` messages and `warmMs` ended by `marker` (which the peer acknowledges).
 */
async function oneWay(
  warmMs: number,
  link: Link,
  warmUp: number,
  count: number,
  message: (i: number) => unknown,
  marker: unknown,
): Promise<number> {
  const warmUntil = performance.now() + warmMs;
  for (let i = 0; i < warmUp || performance.now() < warmUntil; i += 1) {
    const sent = link.send(message(i));
    if (sent !== undefined) await sent;
  }
  await link.send(marker);
  await link.receive();
  const start = process.hrtime.bigint();
  await sendAll(link, count, message);
  await link.receive();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** One round of a session: round trips, small messages one way, 1 MiB messages one way, a request handler. */
export async function measureRound(session: Session): Promise<Sample> {
  const { mechanism, connection } = session;
  const { mode } = session.settings;
  const small = smallCount(mode, mechanism);
  const { link } = connection;
  const report = async () => (await connection.reports.next()).value as { cpuUs: number };
  // Every row warms up for the same time (and at least `warmup` round trips), so that a fast mechanism is
  // measured with its code optimized as in a long-running process, not mid-way through the JIT's work;
  // then a marker message tells the peer that the timed part starts. Later rounds, on processes already
  // warm, warm up for less: enough to bring their caches and spin policies back.
  const warmMs = session.rounds === 0 ? mode.warmupMs : mode.rewarmMs;
  session.rounds += 1;
  session.step = `round ${session.rounds}: round trips`;
  const warmUntil = performance.now() + warmMs;
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
  session.step = `round ${session.rounds}: small messages one way`;
  const smallSeconds = await oneWay(
    warmMs,
    link,
    Math.ceil(small / 5),
    small,
    (i) => smallMessage(mechanism, i),
    markerMessage(mechanism),
  );
  await report();
  let largeBytesPerSecond: number | undefined;
  if (mechanism.large) {
    session.step = `round ${session.rounds}: 1 MiB messages one way`;
    const payload = Buffer.alloc(MIB, 7);
    // A warm-up of at least as many 1 MiB messages as are timed and the round's warm-up time, for every row alike: a fresh
    // process's first large buffers come from new pages (glibc raises its mmap threshold only once the GC
    // has freed some), and a standalone shm test moved its first 200 MiB at a third of the later rate.
    const seconds = await oneWay(
      warmMs,
      link,
      mode.large,
      mode.large,
      () => payload,
      markerMessage(mechanism),
    );
    largeBytesPerSecond = (mode.large * MIB) / seconds;
    await report();
  }
  let handler: { p50: number; p99: number } | undefined;
  if (mechanism.handler) {
    session.step = `round ${session.rounds}: 50 µs handler`;
    handler = await roundTrips(mode, link, mechanism, handlerTrips(mode));
    await report();
  }
  // Outside the timing: both processes collect their garbage now, not while another mechanism is measured.
  session.step = `round ${session.rounds}: garbage collection`;
  fullGc();
  await link.receive(); // the peer's collection is done
  await report();
  // After its last round the peer's plan is done: it closes its end and exits, as it should.
  if (session.rounds === session.settings.rounds) closing.add(connection.child);
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
  mode: Mode,
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
