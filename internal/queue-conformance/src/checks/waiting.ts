import { describe, expect, it } from "vitest";
import { expectCode, pause, type QueueContext, settled } from "../context.js";

/** Every wait has a timeout and a signal; a wait that fails took or put nothing. */
export function waitingChecks({ withQueue }: QueueContext): void {
  describe("waiting", () => {
    it("a get waits for an item another end puts", () =>
      withQueue<string>({}, async (queue, { second }) => {
        const other = await second();
        const pending = queue.get({ timeout: 10_000 });
        expect(await settled(pending)).toBe(false);
        await other.put("late");
        expect(await pending).toBe("late");
      }));

    it("a put into a full queue waits until another end gets", () =>
      withQueue<number>({ maxsize: 1 }, async (queue, { second }) => {
        const other = await second();
        await queue.put(1);
        const pending = queue.put(2, { timeout: 10_000 });
        expect(await settled(pending)).toBe(false);
        expect(await other.get()).toBe(1);
        await pending;
        expect(await other.get()).toBe(2);
      }));

    it("a get that times out fails with ERR_IPC_TIMEOUT and took nothing", () =>
      withQueue<number>({}, async (queue) => {
        const started = performance.now();
        await expectCode(() => queue.get({ timeout: 100 }), "ERR_IPC_TIMEOUT");
        expect(performance.now() - started).toBeGreaterThanOrEqual(90);
        await queue.put(5);
        expect(await queue.qsize()).toBe(1);
        expect(await queue.get()).toBe(5);
      }));

    it("a get aborted by its signal fails with ERR_IPC_ABORTED and took nothing, even when an item comes right after", () =>
      withQueue<number>({}, async (queue, { second }) => {
        const other = await second();
        const controller = new AbortController();
        const pending = queue.get({ signal: controller.signal });
        await pause(20);
        controller.abort();
        await expectCode(() => pending, "ERR_IPC_ABORTED");
        await other.put(7);
        expect(await other.get({ timeout: 5000 })).toBe(7);
      }));

    it("a put aborted while the queue is full fails with ERR_IPC_ABORTED and put nothing", () =>
      withQueue<number>({ maxsize: 1 }, async (queue) => {
        await queue.put(1);
        const controller = new AbortController();
        const pending = queue.put(2, { signal: controller.signal });
        await pause(20);
        controller.abort();
        await expectCode(() => pending, "ERR_IPC_ABORTED");
        expect(await queue.get()).toBe(1);
        expect(await queue.qsize()).toBe(0);
        await expectCode(() => queue.get({ timeout: 50 }), "ERR_IPC_TIMEOUT");
      }));

    it("a put that times out on a full queue fails with ERR_IPC_TIMEOUT and put nothing", () =>
      withQueue<number>({ maxsize: 1 }, async (queue) => {
        await queue.put(1);
        await expectCode(() => queue.put(2, { timeout: 50 }), "ERR_IPC_TIMEOUT");
        expect(await queue.qsize()).toBe(1);
      }));

    it("an already aborted signal fails at once and takes nothing", () =>
      withQueue<number>({}, async (queue) => {
        await queue.put(1);
        await expectCode(() => queue.get({ signal: AbortSignal.abort() }), "ERR_IPC_ABORTED");
        expect(await queue.qsize()).toBe(1);
      }));

    it("many waiting gets are each served once by as many puts", () =>
      withQueue<number>({}, async (queue, { second }) => {
        const other = await second();
        const gets = Array.from({ length: 8 }, (_, i) => (i % 2 ? queue : other).get({ timeout: 10_000 }));
        await pause(20);
        for (let i = 0; i < 8; i++) await queue.put(i);
        expect(((await Promise.all(gets)) as number[]).sort((a, b) => a - b)).toEqual([
          0, 1, 2, 3, 4, 5, 6, 7,
        ]);
      }));
  });
}
