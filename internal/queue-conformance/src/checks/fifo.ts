import { describe, expect, it } from "vitest";
import type { QueueContext } from "../context.js";

/** First in, first out; shared by every end; values round-trip. */
export function fifoChecks({ withQueue, subject }: QueueContext): void {
  describe("first in, first out", () => {
    it("gets items in the order they were put", () =>
      withQueue<number>({}, async (queue) => {
        for (let i = 0; i < 100; i++) await queue.put(i);
        const got: number[] = [];
        for (let i = 0; i < 100; i++) got.push(await queue.get());
        expect(got).toEqual([...Array(100).keys()]);
      }));

    it("is one queue for every end: what one end puts, another gets", () =>
      withQueue<string>({}, async (queue, { second }) => {
        const other = await second();
        await queue.put("from the first");
        expect(await other.get({ timeout: 5000 })).toBe("from the first");
        await other.put("from the second");
        expect(await queue.get({ timeout: 5000 })).toBe("from the second");
      }));

    it("keeps each producer's order when producers interleave", () =>
      withQueue<[string, number]>({}, async (queue, { second }) => {
        const other = await second();
        const seen = { a: -1, b: -1 };
        const consumer = (async () => {
          for (let i = 0; i < 400; i++) {
            const [who, n] = await queue.get({ timeout: 10_000 });
            expect(n).toBe(seen[who as "a" | "b"] + 1);
            seen[who as "a" | "b"] = n;
          }
        })();
        const puts: Promise<void>[] = [];
        for (let i = 0; i < 200; i++) {
          puts.push(queue.put(["a", i], { timeout: 10_000 }));
          puts.push(other.put(["b", i], { timeout: 10_000 }));
        }
        await Promise.all([...puts, consumer]);
        expect(seen).toEqual({ a: 199, b: 199 });
      }));

    it("carries JSON values of every kind, and empty strings", () =>
      withQueue<unknown>({}, async (queue) => {
        const values = [0, -1.5, "", "é ✓ 😀", null, true, [1, [2, [3]]], { nested: { a: [1, "x"] } }];
        for (const value of values) await queue.put(value);
        for (const value of values) expect(await queue.get()).toEqual(value);
      }));

    it("carries raw bytes with the bytes codec, empty items included", () =>
      withQueue<Uint8Array>({ codec: "bytes" }, async (queue) => {
        const large = Math.min(10_000, Math.floor(subject.capabilities.maxItemBytes / 2));
        const items = [new Uint8Array(0), new Uint8Array([1, 2, 3]), new Uint8Array(large).fill(7)];
        for (const item of items) await queue.put(item);
        for (const item of items) expect(Buffer.from(await queue.get())).toEqual(Buffer.from(item));
      }));

    it("gives items by async iteration, in order", () =>
      withQueue<number>({}, async (queue) => {
        for (let i = 0; i < 5; i++) await queue.put(i);
        const got: number[] = [];
        for await (const item of queue) {
          got.push(item);
          if (got.length === 5) break;
        }
        expect(got).toEqual([0, 1, 2, 3, 4]);
        await queue.put(9);
        expect(await queue.get()).toBe(9); // breaking out of the loop does not close the queue
      }));
  });
}
