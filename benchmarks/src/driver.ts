// The bench side of one mechanism, in a process of its own (run.ts starts one per mechanism):
// `driver.js <mechanism> <mode> <rounds> <workDir> <pin 0|1>`. It connects to the mechanism's peer once,
// then measures one round for every "round" line on stdin and answers each with one JSON line on stdout:
// the round's Sample, or null when the mechanism is unavailable. It closes the session when stdin ends.
import { createInterface } from "node:readline";
import { mechanismById } from "./mechanisms.js";
import { MODES, type ModeName } from "./modes.js";
import { BENCH_CPU, PIN_PEER_ENV, pin } from "./pinning.js";
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
// The main thread only; this process was started on the peers' CPU, where its other threads stay. Its
// peer, started from this thread, starts here and pins itself (peer.ts).
if (settings.pinned) {
  pin(process.pid, BENCH_CPU);
  process.env[PIN_PEER_ENV] = "1";
}
const session = await openSession(mechanismById(id), settings);
// run.ts asks this way, before it kills a driver whose round takes too long, where the round got stuck.
process.on("SIGUSR2", () => {
  process.stderr.write(`bench: the ${id} driver is at "${session?.step ?? "not connected"}"\n`);
  session?.connection.child.kill("SIGUSR2"); // and its peer says where it is
});
for await (const line of createInterface({ input: process.stdin })) {
  if (line !== "round") throw new Error(`driver: unknown command ${JSON.stringify(line)}`);
  const sample = session === undefined ? null : await measureRound(session);
  process.stdout.write(`${JSON.stringify(sample)}\n`);
}
if (session !== undefined) await closeSession(session);
