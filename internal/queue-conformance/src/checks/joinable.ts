import { describe, expect, it } from "vitest";
import { expectCode, type QueueContext, settled } from "../context.js";
import type { JoinableQueueUnderTest } from "../subject.js";

/** taskDone() and join(), as in Python, and across ends. */
export function joinableChecks({ withQueue }: QueueContext): void {
  describe("taskDone and join", () => {
    it("join waits until every item put has been task-done", () =>
      withQueue<number>({ joinable: true }, async (plain, { second }) => {
        const queue = plain as JoinableQueueUnderTest<number>;
        const other = (await second()) as JoinableQueueUnderTest<number>;
        await queue.put(1);
        await queue.put(2);
        const joined = queue.join({ timeout: 10_000 });
        expect(await other.get()).toBe(1);
        await other.taskDone();
        expect(await settled(joined)).toBe(false);
        expect(await other.get()).toBe(2);
        await other.taskDone();
        await joined;
      }));

    it("join on a queue with nothing unfinished resolves at once", () =>
      withQueue<number>({ joinable: true }, async (plain) => {
        await (plain as JoinableQueueUnderTest<number>).join({ timeout: 1000 });
      }));

    it("taskDone called more times than items were got fails with ERR_IPC_QUEUE_TASK_DONE", () =>
      withQueue<number>({ joinable: true }, async (plain) => {
        const queue = plain as JoinableQueueUnderTest<number>;
        await expectCode(() => queue.taskDone(), "ERR_IPC_QUEUE_TASK_DONE");
        await queue.put(1);
        await queue.get();
        await queue.taskDone();
        await expectCode(() => queue.taskDone(), "ERR_IPC_QUEUE_TASK_DONE");
      }));

    it("join times out (ERR_IPC_TIMEOUT) and aborts (ERR_IPC_ABORTED) while work is unfinished", () =>
      withQueue<number>({ joinable: true }, async (plain) => {
        const queue = plain as JoinableQueueUnderTest<number>;
        await queue.put(1);
        await expectCode(() => queue.join({ timeout: 50 }), "ERR_IPC_TIMEOUT");
        await expectCode(() => queue.join({ signal: AbortSignal.timeout(30) }), "ERR_IPC_ABORTED");
      }));

    it("acked leases and dead letters count as done for join", () =>
      withQueue<number>({ joinable: true, maxDeliveries: 1 }, async (plain) => {
        const queue = plain as JoinableQueueUnderTest<number>;
        await queue.put(1);
        await queue.put(2);
        await (await queue.lease()).ack();
        await (await queue.lease()).nack(); // past maxDeliveries: dead
        await queue.join({ timeout: 5000 });
        expect(await queue.deadLetterCount()).toBe(1);
      }));

    it("an item got but not task-done goes back when its end closes; join then still waits for it", () =>
      withQueue<number>({ joinable: true }, async (plain, { second }) => {
        const queue = plain as JoinableQueueUnderTest<number>;
        const other = (await second()) as JoinableQueueUnderTest<number>;
        await queue.put(1);
        expect(await other.get()).toBe(1);
        await other.close();
        expect(await queue.get({ timeout: 5000 })).toBe(1);
        await queue.taskDone();
        await queue.join({ timeout: 5000 });
      }));
  });
}
