import { describe, expect, it } from "vitest";
import { expectCode, type QueueContext } from "../context.js";
import type { JoinableQueueUnderTest } from "../subject.js";

/** At-least-once delivery: leases, acks, returns, redelivery after a consumer dies, dead letters. */
export function leaseChecks({ withQueue, subject }: QueueContext): void {
  describe("leases", () => {
    it("a leased item stays out of reach until acked, then it is gone", () =>
      withQueue<string>({}, async (queue, { second }) => {
        const other = await second();
        await queue.put("job");
        const lease = await queue.lease();
        expect(lease.value).toBe("job");
        expect(lease.deliveryCount).toBe(1);
        await expectCode(() => other.get({ timeout: 50 }), "ERR_IPC_TIMEOUT");
        await lease.ack();
        expect(await queue.leasedCount()).toBe(0);
        await expectCode(() => other.get({ timeout: 50 }), "ERR_IPC_TIMEOUT");
      }));

    it("a nacked item is delivered again, before newer items, with its delivery count", () =>
      withQueue<string>({}, async (queue, { second }) => {
        const other = await second();
        await queue.put("first");
        await queue.put("second");
        const lease = await queue.lease();
        await lease.nack();
        const again = await other.lease();
        expect([again.value, again.deliveryCount]).toEqual(["first", 2]);
        await again.ack();
        expect(await other.get()).toBe("second");
      }));

    it("an item nacked maxDeliveries times becomes a dead letter, which can be read and taken", () =>
      withQueue<string>({ maxDeliveries: 2 }, async (queue) => {
        await queue.put("poison");
        await (await queue.lease()).nack();
        await (await queue.lease()).nack();
        expect(await queue.qsize()).toBe(0);
        expect(await queue.deadLetterCount()).toBe(1);
        expect(await queue.takeDeadLetters()).toEqual([{ value: "poison", deliveryCount: 2 }]);
        expect(await queue.deadLetterCount()).toBe(0);
        expect(await queue.takeDeadLetters()).toEqual([]);
      }));

    it("nack({ deadLetter: true }) sends the item to the dead letters at once", () =>
      withQueue<string>({}, async (queue) => {
        await queue.put("bad");
        await queue.put("good");
        await (await queue.lease()).nack({ deadLetter: true });
        expect(await queue.get()).toBe("good");
        expect(await queue.takeDeadLetters({ max: 10 })).toEqual([{ value: "bad", deliveryCount: 1 }]);
      }));

    it("a lease settles once: a second ack or nack fails with ERR_IPC_QUEUE_LEASE_SETTLED", () =>
      withQueue<number>({}, async (queue) => {
        await queue.put(1);
        const lease = await queue.lease();
        await lease.ack();
        await expectCode(() => lease.ack(), "ERR_IPC_QUEUE_LEASE_SETTLED");
        await expectCode(() => lease.nack(), "ERR_IPC_QUEUE_LEASE_SETTLED");
      }));

    it("leases an end still holds go back when it closes", () =>
      withQueue<number>({}, async (queue, { second }) => {
        const other = await second();
        await queue.put(1);
        await other.lease();
        await other.close();
        const again = await queue.lease({ timeout: 5000 });
        expect([again.value, again.deliveryCount]).toEqual([1, 2]);
        await again.ack();
      }));

    it("a consumer killed while it holds a lease: the item is delivered again to another consumer", () =>
      withQueue<string>({}, async (queue, { peer }) => {
        const consumer = await peer();
        await queue.put("held by the peer");
        expect(await consumer.leaseOne()).toBe("held by the peer");
        await consumer.kill();
        const started = performance.now();
        const again = await queue.lease({ timeout: subject.capabilities.redeliveryMs + 5000 });
        expect([again.value, again.deliveryCount]).toEqual(["held by the peer", 2]);
        expect(performance.now() - started).toBeLessThan(subject.capabilities.redeliveryMs + 1000);
        await again.ack();
        await expectCode(() => queue.get({ timeout: 100 }), "ERR_IPC_TIMEOUT");
      }));

    it("join returns although a consumer died holding an item: it is delivered again and done", () =>
      withQueue<string>({ joinable: true }, async (plain, { peer }) => {
        const queue = plain as JoinableQueueUnderTest<string>;
        const consumer = await peer();
        await queue.put("work");
        expect(await consumer.getOne()).toBe("work"); // a joinable get holds the item until taskDone
        await consumer.kill();
        const joined = queue.join({ timeout: subject.capabilities.redeliveryMs + 10_000 });
        expect(await queue.get({ timeout: subject.capabilities.redeliveryMs + 5000 })).toBe("work");
        await queue.taskDone();
        await joined;
      }));

    it("a plain get by a consumer that then dies is not delivered again (at most once)", () =>
      withQueue<string>({}, async (queue, { peer }) => {
        const consumer = await peer();
        await queue.put("once");
        expect(await consumer.getOne()).toBe("once");
        await consumer.kill();
        await expectCode(
          () => queue.get({ timeout: subject.capabilities.redeliveryMs + 300 }),
          "ERR_IPC_TIMEOUT",
        );
      }));
  });
}
