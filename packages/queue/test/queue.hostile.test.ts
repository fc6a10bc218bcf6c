import { createQueue, openJoinableQueue, openQueue } from "@ipc/queue";
import { createSegment, uniqueSegmentName } from "@ipc/shm";
import { describe, expect, it } from "vitest";
import {
  CAPACITY,
  CONSUMER_JOURNAL,
  DATA_BYTE,
  FLOOR,
  HEAD,
  MAX_DELIVERIES,
  R_LENGTH,
  R_STATE,
  REDELIVERABLE,
  TAIL,
} from "../src/layout.js";

/** A named queue and the raw words of its segment, as a process that scribbles over it would see them. */
function scribbled(options: { capacity?: number; maxsize?: number } = {}) {
  const name = uniqueSegmentName("ipc-test-hostile-queue");
  const queue = createQueue<number>({ capacity: 4096, ...options, name });
  const other = openQueue<number>(name);
  // A third mapping of the same memory, written without any of the queue's rules.
  const raw = new Int32Array(
    (other as unknown as { engine: { segment: { buffer: ArrayBuffer } } }).engine.segment.buffer,
  );
  return { queue, other, raw };
}

describe("bad arguments", () => {
  it("refuses capacities, maxsizes and maxDeliveries that make no sense (ERR_IPC_INVALID_ARGUMENT), creating nothing", () => {
    for (const capacity of [0, 100, 5000, 2 ** 31, -4096, Number.NaN]) {
      expect(() => createQueue({ capacity })).toThrow(
        expect.objectContaining({ code: "ERR_IPC_INVALID_ARGUMENT" }),
      );
    }
    for (const maxsize of [-1, 1.5, 2 ** 31, Number.POSITIVE_INFINITY]) {
      expect(() => createQueue({ maxsize })).toThrow(
        expect.objectContaining({ code: "ERR_IPC_INVALID_ARGUMENT" }),
      );
    }
    for (const maxDeliveries of [0, -1, 2 ** 24]) {
      expect(() => createQueue({ maxDeliveries })).toThrow(
        expect.objectContaining({ code: "ERR_IPC_INVALID_ARGUMENT" }),
      );
    }
    expect(() => createQueue({ spin: -1 })).toThrow(
      expect.objectContaining({ code: "ERR_IPC_INVALID_ARGUMENT" }),
    );
  });

  it("refuses an item larger than the whole queue at once, writing nothing", async () => {
    await using queue = createQueue<string>({ capacity: 4096 });
    await expect(queue.put("x".repeat(5000))).rejects.toMatchObject({ code: "ERR_IPC_QUEUE_ITEM_TOO_LARGE" });
    expect(() => queue.putNowait("x".repeat(5000))).toThrow(
      expect.objectContaining({ code: "ERR_IPC_QUEUE_ITEM_TOO_LARGE" }),
    );
    expect(queue.qsize()).toBe(0);
  });

  it("a negative or NaN timeout is ERR_IPC_INVALID_ARGUMENT", async () => {
    await using queue = createQueue<number>();
    await expect(queue.get({ timeout: -1 })).rejects.toMatchObject({ code: "ERR_IPC_INVALID_ARGUMENT" });
    await expect(queue.put(1, { timeout: Number.NaN })).rejects.toMatchObject({
      code: "ERR_IPC_INVALID_ARGUMENT",
    });
  });
});

describe("opening something that is not a queue", () => {
  it("a plain segment, a queue of another kind, a header scribbled over: ERR_IPC_PROTOCOL", async () => {
    const name = uniqueSegmentName("ipc-test-not-a-queue");
    {
      using segment = createSegment(8192, { name });
      expect(() => openQueue(name)).toThrow(expect.objectContaining({ code: "ERR_IPC_PROTOCOL" }));
      void segment;
    }
    const { queue, other, raw } = scribbled();
    expect(() => openJoinableQueue(queue.name!)).toThrow(
      expect.objectContaining({ code: "ERR_IPC_PROTOCOL" }),
    );
    for (const [word, value] of [
      [CAPACITY, 100],
      [CAPACITY, 1 << 20], // more than the segment holds
      [MAX_DELIVERIES, 0],
    ] as const) {
      const saved = raw[word]!;
      raw[word] = value;
      expect(() => openQueue(queue.name!)).toThrow(expect.objectContaining({ code: "ERR_IPC_PROTOCOL" }));
      raw[word] = saved;
    }
    await other.close();
    await queue.close();
  });
});

describe("memory scribbled over while in use", () => {
  it("an impossible tail, head or floor is reported (ERR_IPC_PROTOCOL), never read past", async () => {
    for (const [word, value] of [
      [TAIL, 1 << 20],
      [HEAD, -64],
      [FLOOR, 8000],
    ] as const) {
      const { queue, other, raw } = scribbled();
      await queue.put(1);
      raw[word] = value;
      let outcome: unknown;
      try {
        await other.get({ timeout: 200 });
        await queue.put(2, { timeout: 200 });
        await other.get({ timeout: 200 });
        outcome = "no error";
      } catch (error) {
        outcome = error;
      }
      expect(outcome).toMatchObject({ code: "ERR_IPC_PROTOCOL" });
      await other.close();
      await queue.close();
    }
  });

  it("a record whose length or state is garbage is reported, not decoded", async () => {
    for (const [field, value] of [
      [R_LENGTH, 1 << 30],
      [R_LENGTH, -5],
      [R_STATE, 9],
    ] as const) {
      const { queue, other, raw } = scribbled();
      await queue.put(1);
      raw[(DATA_BYTE >> 2) + field] = value;
      await expect(other.get({ timeout: 200 })).rejects.toMatchObject({ code: "ERR_IPC_PROTOCOL" });
      await other.close();
      await queue.close();
    }
  });

  it("a count of returned items that are not there is reported", async () => {
    const { queue, other, raw } = scribbled();
    raw[REDELIVERABLE] = 3;
    await expect(other.get({ timeout: 200 })).rejects.toMatchObject({ code: "ERR_IPC_PROTOCOL" });
    await other.close();
    await queue.close();
  });

  it("a committed journal naming a word outside the queue's own is refused on recovery", async () => {
    const { queue, other, raw } = scribbled();
    // A consumer lock held by a dead process (pid 0x7fffffff cannot exist), with a journal that would
    // write the magic number: recovery must refuse it.
    const lockWords = new BigInt64Array(raw.buffer, 256, 1);
    lockWords[0] = 0x7fff_ffffn;
    raw[CONSUMER_JOURNAL + 1] = 1;
    raw[CONSUMER_JOURNAL + 2] = 0; // word 0: the magic
    raw[CONSUMER_JOURNAL + 3] = 0;
    raw[CONSUMER_JOURNAL] = 1;
    await queue.put(1);
    await expect(other.get({ timeout: 2000 })).rejects.toMatchObject({ code: "ERR_IPC_PROTOCOL" });
    expect(raw[0]).not.toBe(0);
    await other.close();
    await queue.close();
  });
});
