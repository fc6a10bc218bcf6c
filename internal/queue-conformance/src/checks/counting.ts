import { describe, expect, it } from "vitest";
import { expectCode, type QueueContext } from "../context.js";

/** Python's nowait forms and exact counts. */
export function countingChecks({ withQueue }: QueueContext): void {
  describe("counts and the nowait forms", () => {
    it("getNowait on an empty queue fails with ERR_IPC_QUEUE_EMPTY (Python's Empty)", () =>
      withQueue<number>({}, async (queue) => {
        await expectCode(() => queue.getNowait(), "ERR_IPC_QUEUE_EMPTY");
        await queue.putNowait(1);
        expect(await queue.getNowait()).toBe(1);
      }));

    it("putNowait on a queue holding maxsize items fails with ERR_IPC_QUEUE_FULL (Python's Full), putting nothing", () =>
      withQueue<number>({ maxsize: 2 }, async (queue) => {
        await queue.putNowait(1);
        await queue.putNowait(2);
        expect(await queue.full()).toBe(true);
        await expectCode(() => queue.putNowait(3), "ERR_IPC_QUEUE_FULL");
        expect(await queue.qsize()).toBe(2);
        expect([await queue.get(), await queue.get()]).toEqual([1, 2]);
        expect(await queue.empty()).toBe(true);
      }));

    it("qsize is exact after puts and gets, from every end", () =>
      withQueue<number>({}, async (queue, { second }) => {
        const other = await second();
        expect(await queue.qsize()).toBe(0);
        expect(await queue.empty()).toBe(true);
        for (let i = 0; i < 37; i++) await queue.put(i);
        for (let i = 0; i < 12; i++) await other.get();
        expect(await queue.qsize()).toBe(25);
        expect(await other.qsize()).toBe(25);
        expect(await queue.empty()).toBe(false);
        expect(await queue.full()).toBe(false); // no maxsize: never full
      }));

    it("qsize does not count leased items or dead letters", () =>
      withQueue<number>({ maxDeliveries: 1 }, async (queue) => {
        await queue.put(1);
        await queue.put(2);
        const lease = await queue.lease();
        expect(await queue.qsize()).toBe(1);
        expect(await queue.leasedCount()).toBe(1);
        await lease.nack(); // past maxDeliveries: a dead letter
        expect(await queue.qsize()).toBe(1);
        expect(await queue.deadLetterCount()).toBe(1);
        expect(await queue.leasedCount()).toBe(0);
      }));
  });
}
