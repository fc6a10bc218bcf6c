import { execFileSync } from "node:child_process";
import { availableParallelism } from "node:os";

// Pinning every mechanism's bench side (its driver) to one CPU and every peer to the other makes runs
// comparable: left to the scheduler, a ping-pong lands on one core or two at random, and round trips
// differ by 2x. Only main threads are pinned, each by its own process as it starts; the threads a process
// starts with (V8's compiler and GC workers) stay on the CPU it was started on, the other process's: a
// driver is started on the peers' CPU, and a peer inherits its driver's. With every thread of a process on
// its own CPU, a spinning main thread starved V8's optimizing compiler. Threads made later (libuv's pool,
// libzmq's I/O threads) share their own main thread's CPU.
export const BENCH_CPU = 0;
export const PEER_CPU = 1;
/** Set to "1" in a driver's environment (so in its peers') when peers pin themselves to PEER_CPU. */
export const PIN_PEER_ENV = "IPC_BENCH_PIN_PEER";

/** True when this machine can pin (two CPUs or more, and taskset). */
export function canPin(): boolean {
  return availableParallelism() >= 2 && commandExists("taskset");
}

/** Pins the main thread of `pid` to `cpu`. */
export function pin(pid: number | undefined, cpu: number): void {
  if (pid === undefined) return;
  execFileSync("taskset", ["--cpu-list", "--pid", String(cpu), String(pid)], { stdio: "ignore" });
}

export function commandExists(command: string): boolean {
  try {
    execFileSync(command, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
