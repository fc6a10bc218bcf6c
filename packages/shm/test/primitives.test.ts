import { once } from "node:events";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { IpcErrorCode } from "@ipc/core";
import {
  createSegment,
  defineLayout,
  futexNotify,
  futexWait,
  futexWaitAsync,
  type Segment,
  SharedEvent,
  SharedLock,
  SharedValue,
} from "@ipc/shm";
import { type Peer, spawnPeer, waitUntil } from "@ipc-internal/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import { TestLayout } from "./fixtures/test-layout.js";

const CHILD = fileURLToPath(new URL("./fixtures/primitives-child.ts", import.meta.url));
const PREFIX = `ipc-test-${process.pid}-prim-`;
let counter = 0;
const open: Segment[] = [];

/** A fresh named segment holding TestLayout, removed after the test. */
function testSegment(): Segment {
  const segment = createSegment(TestLayout.byteLength, { name: `${PREFIX}${(counter += 1)}` });
  open.push(segment);
  return segment;
}

afterEach(() => {
  // The creator's close removes the name too.
  for (const segment of open.splice(0)) segment.close();
});

function child(mode: string, segment: Segment, count?: number): Peer {
  const args = [mode, segment.name!, ...(count === undefined ? [] : [String(count)])];
  return spawnPeer(CHILD, { args, stdio: ["ignore", "inherit", "inherit", "ipc"] });
}

const nextMessage = (peer: Peer) => new Promise((resolve) => peer.child.once("message", resolve));

describe("SharedLock across processes", () => {
  it("four processes, two with lockSync and two with lock(), lose no update to a lock-guarded counter", async () => {
    const segment = testSegment();
    const shared = TestLayout.bind(segment);
    const peers = ["count-sync", "count-sync", "count-async", "count-async"].map((mode) =>
      child(mode, segment, 20_000),
    );
    shared.go.set();
    const exits = await Promise.all(peers.map((peer) => peer.exited));
    expect(exits).toEqual(Array(4).fill({ code: 0, signal: null }));
    expect(shared.plain.value).toBe(80_000);
    expect(shared.floatSum.value).toBe(40_000); // float adds are atomic too
    expect(shared.lock.owner).toBe(0);
  });

  it("works from worker threads (lockSync) beside the main thread (lock())", async () => {
    const segment = testSegment();
    const shared = TestLayout.bind(segment);
    const workerFile = fileURLToPath(new URL("./fixtures/lock-worker.ts", import.meta.url));
    const workers = [0, 1].map(
      () =>
        new Worker(runTypeScript(workerFile), {
          eval: true,
          execArgv: ["--conditions=@ipc/source"],
          workerData: { name: segment.name, times: 5000 },
        }),
    );
    const ended = workers.map((worker) => once(worker, "exit"));
    for (let i = 0; i < 5000; i += 1) {
      await shared.lock.withLock(() => {
        shared.plain.value = shared.plain.value + 1;
      });
    }
    expect((await Promise.all(ended)).map(([code]) => code)).toEqual([0, 0]);
    expect(shared.plain.value).toBe(15_000);
  });

  it("recovers a lock whose holder was killed with SIGKILL, and tells the next locker", async () => {
    const segment = testSegment();
    const shared = TestLayout.bind(segment);
    const holder = child("hold", segment);
    expect(await nextMessage(holder)).toBe("locked");
    expect(shared.lock.owner).toBe(holder.child.pid);
    expect(shared.lock.tryLock()).toBeUndefined();
    await expectCode(shared.lock.lock({ timeout: 150 }), IpcErrorCode.TIMEOUT); // alive: still held
    const waiting = shared.lock.lock({ timeout: 10_000 });
    holder.child.kill("SIGKILL");
    const guard = await waiting;
    expect(guard.previousOwnerDied).toBe(true);
    expect(shared.lock.owner).toBe(process.pid);
    guard.unlock();
    guard.unlock(); // idempotent
    expect(shared.lock.owner).toBe(0);
    using again = shared.lock.lockSync({ timeout: 1000 });
    expect(again.previousOwnerDied).toBe(false);
    await holder.exited;
  });

  it.runIf(process.platform === "linux")(
    "does not take a pid reused by another process for the holder (pid and start time name the holder)",
    () => {
      const segment = testSegment();
      const lock = new SharedLock(segment.buffer, TestLayout.offsets.lock);
      const owner = new BigInt64Array(segment.buffer, TestLayout.offsets.lock, 1);
      // The test runner's parent is alive; with its real start time it holds the lock...
      const stat = readFileSync(`/proc/${process.ppid}/stat`, "latin1");
      const startTime = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]) + 1;
      owner[0] = (BigInt(startTime) << 32n) | BigInt(process.ppid); // little-endian: pid in the low half
      expect(lock.owner).toBe(process.ppid);
      expect(() => lock.lockSync({ timeout: 150 })).toThrow(
        expect.objectContaining({ code: IpcErrorCode.TIMEOUT }),
      );
      // ...with another start time it is a different process that had the same pid, and is gone.
      owner[0] = (BigInt(startTime + 1) << 32n) | BigInt(process.ppid);
      using guard = lock.lockSync({ timeout: 1000 });
      expect(guard.previousOwnerDied).toBe(true);
      expect(lock.owner).toBe(process.pid);
    },
  );

  it("lockSync recovers from a dead holder too", async () => {
    const segment = testSegment();
    const shared = TestLayout.bind(segment);
    const holder = child("hold", segment);
    expect(await nextMessage(holder)).toBe("locked");
    holder.child.kill("SIGKILL");
    await holder.exited;
    using guard = shared.lock.lockSync({ timeout: 5000 });
    expect(guard.previousOwnerDied).toBe(true);
  });

  it("an aborted or timed-out lock() takes nothing and leaves no sleeper registered", async () => {
    const segment = testSegment();
    const lock = new SharedLock(segment.buffer, TestLayout.offsets.lock);
    const held = lock.lockSync();
    const controller = new AbortController();
    const waiting = lock.lock({ signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expectCode(waiting, IpcErrorCode.ABORTED);
    expect(() => lock.lockSync({ timeout: 30 })).toThrow(
      expect.objectContaining({ code: IpcErrorCode.TIMEOUT }),
    );
    expect(new Int32Array(segment.buffer, TestLayout.offsets.lock, 4)[2]).toBe(0); // no sleeper left
    held.unlock();
    expect(lock.owner).toBe(0);
  });
});

describe("SharedSemaphore across processes", () => {
  it("never lets more holders in than permits", async () => {
    const segment = testSegment();
    const shared = TestLayout.bind(segment);
    shared.permits.release(2);
    const peers = [0, 1, 2, 3].map(() => child("permits", segment, 300));
    shared.go.set();
    const exits = await Promise.all(peers.map((peer) => peer.exited));
    expect(exits).toEqual(Array(4).fill({ code: 0, signal: null }));
    expect(shared.mostInside.value).toBeGreaterThanOrEqual(1);
    expect(shared.mostInside.value).toBeLessThanOrEqual(2);
    expect(shared.permits.value).toBe(2);
  });
});

describe("futex waits", () => {
  it("futexNotify in this process wakes futexWait in another", async () => {
    const segment = testSegment();
    const words = new Int32Array(segment.buffer, TestLayout.offsets.word, 1);
    const waiter = child("wait-word", segment);
    expect(await nextMessage(waiter)).toBe("waiting");
    // A notify that wakes someone proves the child is asleep on this word, in its own process.
    await waitUntil(() => futexNotify(words, 0, 1) === 1, "the child to sleep on the word");
    const woke = nextMessage(waiter);
    Atomics.store(words, 0, 7);
    futexNotify(words, 0);
    expect(await woke).toBe("woke with 7");
    expect((await waiter.exited).code).toBe(0);
  });

  it("reports not-equal and timed-out as Atomics.wait does, and refuses words it cannot wait on", async () => {
    const segment = testSegment();
    const words = new Int32Array(segment.buffer, 0, 4);
    expect(futexWait(words, 0, 1, 0)).toBe("not-equal");
    expect(futexWait(words, 0, 0, 5)).toBe("timed-out");
    expect(await futexWaitAsync(words, 0, 1)).toBe("not-equal");
    expect(await futexWaitAsync(words, 0, 0, { timeout: 5 })).toBe("timed-out");
    expect(() => futexWait(words, 9, 0, 0)).toThrow(
      expect.objectContaining({ code: IpcErrorCode.INVALID_ARGUMENT }),
    );
  });

  it("async waits sleep off libuv's pool: file reads complete while eight waits are pending", async () => {
    const segment = testSegment();
    const event = new SharedEvent(segment.buffer, TestLayout.offsets.go);
    // Twice libuv's default pool size: if the waits sat on the pool, the read below would never run.
    const waits = Array.from({ length: 8 }, () => event.wait({ timeout: 20_000 }));
    const read = readFile(fileURLToPath(import.meta.url), "utf8");
    const outcome = await Promise.race([
      read.then(() => "read"),
      new Promise((resolve) => setTimeout(resolve, 10_000, "starved")),
    ]);
    expect(outcome).toBe("read");
    event.set();
    await Promise.all(waits);
  });

  it("rejects a pending async wait with ERR_IPC_CLOSED when its segment is closed", async () => {
    const segment = createSegment(64, { name: `${PREFIX}${(counter += 1)}` });
    segment.unlink();
    const waiting = futexWaitAsync(new Int32Array(segment.buffer, 0, 1), 0, 0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    segment.close();
    await expectCode(waiting, IpcErrorCode.CLOSED);
  });

  it("does not keep the process alive once no wait is pending", async () => {
    const segment = testSegment();
    // No IPC channel: only the wait could keep this child alive, and only while it is pending.
    const peer = spawnPeer(CHILD, {
      args: ["wait-then-exit", segment.name!],
      stdio: ["ignore", "pipe", "inherit"],
    });
    let output = "";
    peer.child.stdout?.setEncoding("utf8").on("data", (text: string) => {
      output += text;
    });
    expect(await peer.exited).toEqual({ code: 0, signal: null });
    expect(output).toBe("timed-out\n");
  });
});

describe("values and layouts", () => {
  it("lays out fields 8-byte aligned in declaration order; zeroed memory is valid", () => {
    const layout = defineLayout({ a: "uint8", b: "float64", c: ["int16", 5], d: "lock", e: "bigint64" });
    expect(layout.offsets).toEqual({ a: 0, b: 8, c: 16, d: 32, e: 48 });
    expect(layout.byteLength).toBe(56);
    const bound = layout.bind(new ArrayBuffer(56));
    expect(bound.c).toBeInstanceOf(Int16Array);
    expect(bound.e.add(5n)).toBe(0n);
    expect(bound.e.value).toBe(5n);
    expect(bound.d.owner).toBe(0);
    expect(() => layout.bind(new ArrayBuffer(48))).toThrow(
      expect.objectContaining({ code: IpcErrorCode.INVALID_ARGUMENT }),
    );
    expect(() => defineLayout({ x: "int33" as never })).toThrow(
      expect.objectContaining({ code: IpcErrorCode.INVALID_ARGUMENT }),
    );
  });

  it("updates floats atomically by compare-and-swap and reports the value before", () => {
    const value = new SharedValue(new ArrayBuffer(8), 0, "float64");
    expect(value.add(1.5)).toBe(0);
    expect(value.exchange(4)).toBe(1.5);
    expect(value.compareExchange(4, 5)).toBe(4);
    expect(value.compareExchange(4, 6)).toBe(5);
    expect(value.value).toBe(5);
    const small = new SharedValue(new ArrayBuffer(8), 0, "float32");
    small.value = 0.25;
    expect(small.sub(0.5)).toBe(0.25);
    expect(small.value).toBe(-0.25);
  });
});

/** Worker source that registers tsx (workers do not take `--import`) and runs a TypeScript file. */
function runTypeScript(file: string): string {
  const tsxApi = join(
    dirname(createRequire(import.meta.url).resolve("tsx/package.json")),
    "dist/esm/api/index.mjs",
  );
  return `const { register } = await import(${JSON.stringify(pathToFileURL(tsxApi).href)});
register();
await import(${JSON.stringify(pathToFileURL(file).href)});`;
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  await expect(promise).rejects.toMatchObject({ code });
}
