import { execFileSync } from "node:child_process";
import { availableParallelism } from "node:os";

// Pinning the bench side of every mechanism to one CPU and every peer to another makes runs comparable:
// left to the scheduler, a ping-pong lands on one core or two at random, and round trips differ by 2x.
// Main threads are pinned each to its CPU, and each process's helper threads (V8's compiler and GC, the
// sweeper that frees large buffers) to the other process's CPU, as on a machine with a core to spare for
// them: with every thread of a process on its own CPU, a spinning main thread starved V8's optimizing
// compiler, and the receiver of 1 MiB messages shared its core with its own GC.
export const BENCH_CPU = 0;
export const PEER_CPU = 1;

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
