import { readFileSync } from "node:fs";

const SCHEDSTAT = "/proc/thread-self/schedstat";
let exact = true;
try {
  readFileSync(SCHEDSTAT, "utf8");
} catch {
  exact = false;
}

/**
 * CPU time of this process's main thread so far, in µs: to the nanosecond from the kernel's scheduler
 * statistics (`/proc/thread-self/schedstat`, Linux), else the whole process's user + system time. The main
 * thread is where a message is encoded, written, read and decoded; V8's helper threads (the optimizing
 * compiler, parallel GC) come and go with the JIT's work and made the process-wide figure swing between
 * runs by more than the differences it was meant to show.
 */
export function mainThreadCpuUs(): number {
  if (exact) return Number(readFileSync(SCHEDSTAT, "utf8").split(" ", 1)[0]) / 1000;
  const { user, system } = process.cpuUsage();
  return user + system;
}
