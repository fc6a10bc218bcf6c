// The JavaScript floor beside the C one: two Node processes ping-ponging through an @ipc/shm segment
// with nothing but `Atomics` (no framing, no channel), as floor.c's `shm-rtt` does. `js-floor.js N
// [pin]`: N timed round trips after N of warm-up, each side spinning on a turn counter; then the same with
// a 64-byte message copied out of shared memory into a new buffer on each side (what receiving a message
// costs at the least). Prints {"rttP50Us", "copyRttP50Us"}. With `pin`, the main threads run on CPUs 0 and 1.
import { execFileSync, spawn } from "node:child_process";
import { createSegment, openSegment } from "@ipc/shm";

const TURN = 0;
const REQUEST_AT = 256;
const REPLY_AT = 512;
const SIZE = 64;

/** Answers `2 * count` round trips (the plain ones, then the copying ones) and exits. */
function answer(buffer: ArrayBuffer, count: number): void {
  const words = new Int32Array(buffer);
  const bytes = new Uint8Array(buffer);
  let turn = 1;
  for (let i = 0; i < count; i += 1, turn += 2) {
    while (Atomics.load(words, TURN) !== turn);
    Atomics.store(words, TURN, turn + 1);
  }
  for (let i = 0; i < count; i += 1, turn += 2) {
    while (Atomics.load(words, TURN) !== turn);
    const request = new Uint8Array(SIZE);
    request.set(bytes.subarray(REQUEST_AT, REQUEST_AT + SIZE));
    bytes.set(request, REPLY_AT);
    Atomics.store(words, TURN, turn + 1);
  }
}

/** Round-trip p50 in µs of `count` round trips after as many of warm-up, from turn `turn` on. */
function pingPong(buffer: ArrayBuffer, count: number, turn: number, copy: boolean): number {
  const words = new Int32Array(buffer);
  const bytes = new Uint8Array(buffer);
  const message = new Uint8Array(SIZE).fill(42);
  const samples = new Float64Array(count / 2);
  for (let i = 0; i < count; i += 1, turn += 2) {
    const start = performance.now();
    if (copy) bytes.set(message, REQUEST_AT);
    Atomics.store(words, TURN, turn);
    while (Atomics.load(words, TURN) !== turn + 1);
    if (copy) new Uint8Array(SIZE).set(bytes.subarray(REPLY_AT, REPLY_AT + SIZE));
    if (i >= count / 2) samples[i - count / 2] = (performance.now() - start) * 1000;
  }
  samples.sort();
  return samples[Math.floor(samples.length / 2)]!;
}

const [countText, pinText] = process.argv.slice(2);
if (countText === "answer") {
  using segment = openSegment({ fd: 3 });
  answer(segment.buffer, Number(pinText));
} else {
  // Each half of `count`: warm-up, then timed.
  const count = 2 * Number(countText);
  using segment = createSegment(4096);
  const peer = spawn(process.execPath, [process.argv[1]!, "answer", String(count)], {
    stdio: ["inherit", "inherit", "inherit", segment.fd!],
  });
  if (pinText === "pin") {
    execFileSync("taskset", ["--cpu-list", "--pid", "0", String(process.pid)], { stdio: "ignore" });
    execFileSync("taskset", ["--cpu-list", "--pid", "1", String(peer.pid)], { stdio: "ignore" });
  }
  const rttP50Us = pingPong(segment.buffer, count, 1, false);
  const copyRttP50Us = pingPong(segment.buffer, count, 2 * count + 1, true);
  await new Promise((resolve) => peer.once("exit", resolve));
  console.log(JSON.stringify({ rttP50Us, copyRttP50Us }));
}
