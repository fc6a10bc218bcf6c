import { describe, expect, it } from "vitest";
import { expectCode, type QueueContext } from "../context.js";

/** Bad input fails the one call that made it, at once, and nothing is written. */
export function limitChecks({ withQueue, subject }: QueueContext): void {
  describe("bad input", () => {
    it("a value the codec cannot encode rejects that put (ERR_IPC_ENCODE); the queue carries on", () =>
      withQueue<unknown>({}, async (queue) => {
        await expectCode(() => queue.put({ big: 10n }), "ERR_IPC_ENCODE");
        await expectCode(() => queue.putNowait(() => 1), "ERR_IPC_ENCODE");
        expect(await queue.qsize()).toBe(0);
        await queue.put("fine");
        expect(await queue.get()).toBe("fine");
      }));

    it("an item larger than the queue can ever hold fails at once with ERR_IPC_QUEUE_ITEM_TOO_LARGE", () =>
      withQueue<Uint8Array>({ codec: "bytes" }, async (queue) => {
        const tooLarge = new Uint8Array(subject.capabilities.maxItemBytes + 1);
        await expectCode(() => queue.put(tooLarge), "ERR_IPC_QUEUE_ITEM_TOO_LARGE");
        expect(await queue.qsize()).toBe(0);
        const largest = new Uint8Array(subject.capabilities.maxItemBytes).fill(3);
        await queue.put(largest);
        expect((await queue.get()).byteLength).toBe(largest.byteLength);
      }));
  });
}
