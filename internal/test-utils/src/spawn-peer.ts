import { type ChildProcess, type StdioOptions, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { bundledPeer } from "./peer-bundle.js";

/** Milliseconds a peer may live before it is stopped, unless `timeoutMs` says otherwise. */
export const DEFAULT_PEER_TIMEOUT_MS = 60_000;
/** Milliseconds between SIGTERM and SIGKILL when a peer is stopped. */
export const DEFAULT_KILL_GRACE_MS = 2_000;

/** How a peer process ended. */
export interface PeerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Options for {@link spawnPeer}. */
export interface SpawnPeerOptions {
  args?: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** @default ["ignore", "inherit", "inherit", "ipc"] */
  stdio?: StdioOptions;
  /** Structured-clone serialization for the IPC control channel. @default "advanced" */
  serialization?: "json" | "advanced";
  /** Hard limit on the peer's life; then SIGTERM, then SIGKILL. @default 60000 */
  timeoutMs?: number;
}

/** A spawned peer process and its life cycle. */
export interface Peer {
  readonly child: ChildProcess;
  /** Settles when the process has exited. */
  readonly exited: Promise<PeerExit>;
  /** SIGTERM, then SIGKILL after a grace period; resolves once the process is gone. */
  stop(graceMs?: number): Promise<PeerExit>;
}

const livePeers = new Set<Peer>();

const requireHere = createRequire(import.meta.url);
const tsxLoader = pathToFileURL(
  join(dirname(requireHere.resolve("tsx/package.json")), "dist/loader.mjs"),
).href;

/** Node arguments that let a child run TypeScript from `src/` (tsx, and the `@ipc/source` condition). */
export const TYPESCRIPT_NODE_ARGS: readonly string[] = ["--conditions=@ipc/source", "--import", tsxLoader];

/**
 * Node arguments that run `modulePath`: its bundle when the test run made one (plain JavaScript, fast to
 * start), else the TypeScript source through tsx.
 */
export function nodeArgsFor(modulePath: string): string[] {
  const bundle = bundledPeer(modulePath);
  return bundle === undefined ? [...TYPESCRIPT_NODE_ARGS, modulePath] : [bundle];
}

/**
 * Runs a TypeScript (or JavaScript) module in a new Node process with a hard timeout and SIGTERM→SIGKILL
 * escalation; every peer still alive is stopped by {@link stopAllPeers} (the leak check calls it).
 */
export function spawnPeer(modulePath: string, options: SpawnPeerOptions = {}): Peer {
  const child = spawn(process.execPath, [...nodeArgsFor(modulePath), ...(options.args ?? [])], {
    stdio: options.stdio ?? ["ignore", "inherit", "inherit", "ipc"],
    serialization: options.serialization ?? "advanced",
    env: { ...process.env, ...options.env },
  });
  return trackChild(child, options.timeoutMs ?? DEFAULT_PEER_TIMEOUT_MS);
}

/** Puts an already spawned process (a Python peer, say) under the same timeout and clean-up rules. */
export function trackChild(child: ChildProcess, timeoutMs: number = DEFAULT_PEER_TIMEOUT_MS): Peer {
  const exited = new Promise<PeerExit>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once("exit", (code, signal) => resolve({ code, signal }));
    child.once("error", () => resolve({ code: child.exitCode, signal: child.signalCode }));
  });
  const stop = async (graceMs = DEFAULT_KILL_GRACE_MS): Promise<PeerExit> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(killer);
    }
    return exited;
  };
  const peer: Peer = { child, exited, stop };
  livePeers.add(peer);
  const deadline = setTimeout(() => void stop(), timeoutMs);
  deadline.unref();
  void exited.then(() => {
    clearTimeout(deadline);
    livePeers.delete(peer);
  });
  return peer;
}

/** Stops every peer that is still running; returns how many there were. */
export async function stopAllPeers(): Promise<number> {
  const running = [...livePeers];
  await Promise.all(running.map((peer) => peer.stop()));
  return running.length;
}
