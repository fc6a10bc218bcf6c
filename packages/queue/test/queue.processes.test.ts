import { fileURLToPath } from "node:url";
import { Process } from "@ipc/pipe";
import { createQueue, openQueue, type Queue } from "@ipc/queue";
import { createSegment, uniqueSegmentName } from "@ipc/shm";
import { TYPESCRIPT_NODE_ARGS } from "@ipc-internal/test-utils";
import { describe, expect, it } from "vitest";
import { consume, produce } from "./fixtures/workers.js";

const workers = fileURLToPath(new URL("./fixtures/workers.ts", import.meta.url));
const child = { module: workers, execArgv: TYPESCRIPT_NODE_ARGS };

describe("queues across processes", () => {
  it("a child handed an anonymous queue by Process puts 10,000 items and exits at once: nothing is lost", async () => {
    await using queue = createQueue<[number, number]>();
    const producer = new Process({ ...child, target: produce, args: [queue, 7, 10_000] });
    await producer.start();
    expect(await producer.join({ timeout: 30_000 })).toEqual({ code: 0, signal: null });
    expect(queue.qsize()).toBe(10_000);
    for (let i = 0; i < 10_000; i++) expect(queue.getNowait()).toEqual([7, i]);
  });

  it("an unrelated process opens a queue by name", async () => {
    await using queue = createQueue<[number, number]>({ name: uniqueSegmentName("ipc-test-queue") });
    // Handed by name: the child opens it itself (a named queue describes itself by its name).
    await using byName = openQueue<[number, number]>(queue.name!);
    const producer = new Process({ ...child, target: produce, args: [byName, 1, 100] });
    await producer.start();
    await producer.join({ timeout: 30_000 });
    const got = [];
    for (let i = 0; i < 100; i++) got.push(await queue.get({ timeout: 5000 }));
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => [1, i]));
  });

  it("4 producers × 4 consumers × 100,000 items: every item received exactly once, each producer's order kept", async () => {
    const producers = 4;
    const consumers = 4;
    const perProducer = 100_000;
    await using queue = createQueue<[number, number] | null>({ capacity: 16 * 1024 * 1024 });
    using seen = createSegment(producers * perProducer * 4);
    using faults = createSegment(4096);
    const started: Process<never>[] = [];
    for (let c = 0; c < consumers; c++) {
      const p = new Process({ ...child, target: consume, args: [queue, seen, faults, c, perProducer] });
      await p.start();
      started.push(p as Process<never>);
    }
    const making: Process<never>[] = [];
    for (let p = 0; p < producers; p++) {
      const maker = new Process({
        ...child,
        target: produce,
        args: [queue as Queue<[number, number]>, p, perProducer],
      });
      await maker.start();
      making.push(maker as Process<never>);
    }
    for (const maker of making)
      expect(await maker.join({ timeout: 120_000 })).toEqual({ code: 0, signal: null });
    for (let c = 0; c < consumers; c++) await queue.put(null);
    for (const p of started) expect(await p.join({ timeout: 120_000 })).toEqual({ code: 0, signal: null });
    const marks = new Int32Array(seen.buffer);
    let once = 0;
    for (const mark of marks) if (mark === 1) once++;
    expect(once).toBe(producers * perProducer);
    expect(Array.from(new Int32Array(faults.buffer, 0, consumers))).toEqual([0, 0, 0, 0]);
    expect(queue.qsize()).toBe(0);
  }, 240_000);
});
