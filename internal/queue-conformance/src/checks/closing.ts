import { describe, expect, it } from "vitest";
import { expectCode, pause, type QueueContext } from "../context.js";

/** close() ends this end only: its waits fail with ERR_IPC_CLOSED, other ends carry on. */
export function closingChecks({ withQueue }: QueueContext): void {
  describe("closing", () => {
    it("a pending get fails with ERR_IPC_CLOSED when its end closes; close is idempotent", () =>
      withQueue<number>({}, async (queue) => {
        const pending = queue.get();
        await pause(20);
        await queue.close();
        await expectCode(() => pending, "ERR_IPC_CLOSED");
        await queue.close();
      }));

    it("every operation on a closed end fails with ERR_IPC_CLOSED", () =>
      withQueue<number>({}, async (queue) => {
        await queue.close();
        await expectCode(() => queue.put(1), "ERR_IPC_CLOSED");
        await expectCode(() => queue.get(), "ERR_IPC_CLOSED");
        await expectCode(() => queue.getNowait(), "ERR_IPC_CLOSED");
        await expectCode(() => queue.lease(), "ERR_IPC_CLOSED");
        await expectCode(() => queue.qsize(), "ERR_IPC_CLOSED");
      }));

    it("other ends carry on, and keep the items, after one end closes", () =>
      withQueue<number>({}, async (queue, { second }) => {
        const other = await second();
        await queue.put(1);
        await queue.close();
        expect(await other.get({ timeout: 5000 })).toBe(1);
        await other.put(2);
        expect(await other.get()).toBe(2);
      }));

    it("async iteration ends when its end closes", () =>
      withQueue<number>({}, async (queue) => {
        await queue.put(1);
        const got: number[] = [];
        const loop = (async () => {
          for await (const item of queue) got.push(item);
        })();
        await pause(30);
        await queue.close();
        await loop;
        expect(got).toEqual([1]);
      }));
  });
}
