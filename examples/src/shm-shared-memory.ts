// @ipc/shm: three children share one piece of memory with their parent (Python's Value, Array and Lock):
// an anonymous segment handed over as a descriptor, so nothing is left in /dev/shm even after a crash.
import { spawn } from "node:child_process";
import { createSegment, defineLayout, openSegment } from "@ipc/shm";

// Every process defines the same layout, so every field is at the same offset everywhere.
const Stats = defineLayout({
  lock: "lock",
  requests: "int32", // updated with Atomics: no lock needed
  total: "float64", // a float updated atomically (compare-and-swap)
  history: ["int32", 8], // a plain typed array (Python's Array), guarded by the lock
  historyLength: "int32",
  done: "semaphore",
});

if (process.argv[2] === "child") {
  using segment = openSegment({ fd: 3 });
  const stats = Stats.bind(segment);
  for (let i = 0; i < 1000; i += 1) {
    stats.requests.add(1);
    stats.total.add(0.5);
  }
  {
    using _held = stats.lock.lockSync({ timeout: 5000 });
    const at = stats.historyLength.value;
    stats.history[at] = process.pid;
    stats.historyLength.value = at + 1;
  }
  stats.done.release();
} else {
  using segment = createSegment(Stats.byteLength);
  const stats = Stats.bind(segment);
  const exited = [1, 2, 3].map(() => {
    const child = spawn(process.execPath, [...process.execArgv, import.meta.filename, "child"], {
      stdio: ["ignore", "inherit", "inherit", segment.fd],
    });
    return new Promise((resolve) => child.once("exit", resolve));
  });
  // Wait for three "done" permits without blocking the event loop.
  for (let i = 0; i < 3; i += 1) await stats.done.acquire({ timeout: 20_000 });
  await Promise.all(exited);
  console.log(`  requests: ${stats.requests.value} (3 processes x 1000, atomic)`);
  console.log(`  total: ${stats.total.value} (float adds, atomic)`);
  const pids = Array.from(stats.history.subarray(0, stats.historyLength.value));
  console.log(`  children that wrote under the lock: ${pids.join(", ")}`);
}
