import { Worker } from "node:worker_threads";

/** Milliseconds past the shutdown deadline at which the watchdog ends a process that is still running. */
export const WATCHDOG_GRACE_MS = 500;

// Runs on a thread of its own, so it keeps time even while a shutdown step blocks the event loop
// (where no timer, signal handler or second signal can run). Only SIGKILL ends a process whose main
// thread is busy: its handlers for SIGTERM would wait for the event loop too.
const WATCHDOG_SOURCE = `
const { workerData } = require("node:worker_threads");
setTimeout(() => process.kill(workerData.pid, "SIGKILL"), workerData.after);
`;

/**
 * Starts a thread that SIGKILLs this process `after` ms from now, unless the process has exited by then
 * or the returned function is called. It never keeps the process alive.
 */
export function startWatchdog(after: number): () => void {
  const worker = new Worker(WATCHDOG_SOURCE, { eval: true, workerData: { pid: process.pid, after } });
  worker.unref();
  return () => void worker.terminate();
}
