// The bench side of one mechanism, in a process of its own (run.ts starts one per mechanism):
// `driver.js <mechanism> <mode> <rounds> <workDir> <pin 0|1>`. It connects to the mechanism's peer once,
// then measures one round for every "round" line on stdin and answers each with one JSON line on stdout:
// the round's Sample, or null when the mechanism is unavailable. It closes the session when stdin ends.
import { createInterface } from "node:readline";
import { mechanismById } from "./mechanisms.js";
import { MODES, type ModeName } from "./modes.js";
import { BENCH_CPU, pin } from "./pinning.js";
import { closeSession, measureRound, openSession, type SessionSettings } from "./session.js";

const [id, modeName, rounds, workDir, pinned] = process.argv.slice(2) as [
  string,
  ModeName,
  string,
  string,
  string,
];
const settings: SessionSettings = {
  mode: MODES[modeName],
  rounds: Number(rounds),
  workDir,
  pinned: pinned === "1",
};
// Pinned (the main thread: run.ts started this process on the peers' CPU, where its helper threads stay)
// before the peer starts: a child inherits the CPU of the thread that spawns it, so the peer's helper
// threads stay on this CPU when its main thread moves to the peers'.
if (settings.pinned) pin(process.pid, BENCH_CPU);
const session = await openSession(mechanismById(id), settings);
for await (const line of createInterface({ input: process.stdin })) {
  if (line !== "round") throw new Error(`driver: unknown command ${JSON.stringify(line)}`);
  const sample = session === undefined ? null : await measureRound(session);
  process.stdout.write(`${JSON.stringify(sample)}\n`);
}
if (session !== undefined) await closeSession(session);
