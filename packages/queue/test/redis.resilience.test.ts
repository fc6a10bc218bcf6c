import { IpcError } from "@ipc/core";
import {
  createRedisJoinableQueue,
  createRedisQueue,
  openRedisJoinableQueue,
  openRedisQueue,
  type RedisQueue,
  unlinkRedisQueue,
} from "@ipc/queue/redis";
import { findRedisServer, type RedisServer, startRedisServer } from "@ipc-internal/test-utils";
import { createClient } from "@redis/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { peerConsumer } from "./peer-consumer.js";
import { TEST_LEASE_TIMEOUT_MS, uniqueQueueName } from "./redis-subject.js";

// What the Redis queue promises beyond the common contract, on real redis-servers: leases of a killed
// consumer, a server killed and restarted (with and without persistence), connections dropped under
// load, idempotent puts, maxsize under concurrent producers, and refusals with codes.

async function codeOf(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return "no error";
  } catch (error) {
    return error instanceof IpcError ? error.code : String(error);
  }
}

if (findRedisServer() === undefined) {
  describe.skip("@ipc/queue/redis: no redis-server on this machine (apt-get install redis-server)", () => {
    it("Redis queue resilience", () => {});
  });
} else {
  describe("@ipc/queue/redis", () => {
    let server: RedisServer;
    beforeAll(async () => {
      server = await startRedisServer();
    });
    afterAll(async () => {
      await server?.stop();
    });

    it("a consumer SIGKILLed holding five leases: another process gets all five again, delivery count 2", async () => {
      const name = uniqueQueueName();
      const queue = await createRedisQueue<number>(name, {
        url: server.url,
        leaseTimeout: TEST_LEASE_TIMEOUT_MS,
      });
      try {
        for (let i = 0; i < 5; i++) await queue.put(i);
        const peer = await peerConsumer(name, server.url);
        const taken = [];
        for (let i = 0; i < 5; i++) taken.push(await peer.leaseOne());
        expect(taken).toEqual([0, 1, 2, 3, 4]);
        expect(await queue.leasedCount()).toBe(5);
        await peer.kill();
        const started = performance.now();
        const again = [];
        for (let i = 0; i < 5; i++) {
          const lease = await queue.lease({ timeout: TEST_LEASE_TIMEOUT_MS + 5000 });
          expect(lease.deliveryCount).toBe(2);
          again.push(lease.value);
          await lease.ack();
        }
        expect(again.sort()).toEqual([0, 1, 2, 3, 4]);
        expect(performance.now() - started).toBeLessThan(TEST_LEASE_TIMEOUT_MS + 1000);
        expect(await queue.leasedCount()).toBe(0);
      } finally {
        await queue.close();
        await unlinkRedisQueue(name, { url: server.url });
      }
    });

    it("a live consumer keeps its lease past leaseTimeout (it renews it)", async () => {
      const name = uniqueQueueName();
      const queue = await createRedisQueue<string>(name, { url: server.url, leaseTimeout: 300 });
      const other = await openRedisQueue<string>(name, { url: server.url });
      try {
        await queue.put("held");
        const lease = await queue.lease();
        expect(await codeOf(() => other.lease({ timeout: 1000 }))).toBe("ERR_IPC_TIMEOUT");
        await lease.ack();
        expect(await other.qsize()).toBe(0);
      } finally {
        await other.close();
        await queue.close();
        await unlinkRedisQueue(name, { url: server.url });
      }
    });

    it("connections killed again and again under load: every put arrives once, every ack counts once", async () => {
      const name = uniqueQueueName();
      const producer = await createRedisJoinableQueue<number>(name, { url: server.url, maxsize: 50 });
      const consumer = await openRedisQueue<number>(name, { url: server.url });
      const admin = createClient({ url: server.url });
      admin.on("error", () => {});
      await admin.connect();
      let killing = true;
      let kills = 0;
      const killer = (async () => {
        while (killing) {
          await new Promise((resolve) => setTimeout(resolve, 40));
          kills += Number(await admin.sendCommand(["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"]));
        }
      })();
      try {
        const count = 600;
        const consumed: number[] = [];
        const consuming = (async () => {
          while (consumed.length < count) {
            const lease = await consumer.lease({ timeout: 20_000 });
            consumed.push(lease.value);
            await lease.ack();
          }
        })();
        for (let i = 0; i < count; i++) await producer.put(i, { timeout: 20_000 });
        await consuming;
        await producer.join({ timeout: 20_000 });
        killing = false;
        await killer;
        expect(kills).toBeGreaterThan(10);
        expect(consumed).toEqual(Array.from({ length: count }, (_, i) => i));
        expect(await producer.qsize()).toBe(0);
        expect(await producer.leasedCount()).toBe(0);
        expect(await (producer as unknown as { unfinishedTasks(): Promise<number> }).unfinishedTasks()).toBe(
          0,
        );
      } finally {
        killing = false;
        await killer;
        admin.destroy();
        await consumer.close();
        await producer.close();
        await unlinkRedisQueue(name, { url: server.url });
      }
    });

    it("a put with an idempotency key is applied once within the window", async () => {
      const name = uniqueQueueName();
      const queue = await createRedisQueue<string>(name, { url: server.url, idempotencyWindow: 300 });
      try {
        await queue.put("a", { idempotencyKey: "order-1" });
        await queue.put("a again", { idempotencyKey: "order-1" });
        await queue.put("b", { idempotencyKey: "order-2" });
        expect(await queue.qsize()).toBe(2);
        await new Promise((resolve) => setTimeout(resolve, 400));
        await queue.put("a later", { idempotencyKey: "order-1" });
        expect([await queue.get(), await queue.get(), await queue.get()]).toEqual(["a", "b", "a later"]);
        expect(await codeOf(() => queue.put("x", { idempotencyKey: "" }))).toBe("ERR_IPC_INVALID_ARGUMENT");
      } finally {
        await queue.close();
        await unlinkRedisQueue(name, { url: server.url });
      }
    });

    it("maxsize holds under 8 concurrent producers, each its own connection", async () => {
      const name = uniqueQueueName();
      const first = await createRedisQueue<number>(name, { url: server.url, maxsize: 10 });
      const producers = await Promise.all(
        Array.from({ length: 8 }, () => openRedisQueue<number>(name, { url: server.url })),
      );
      try {
        // Every producer tries 40 nowait puts at once: exactly 10 may succeed.
        const outcomes = await Promise.all(
          producers.flatMap((producer, p) =>
            Array.from({ length: 40 }, (_, i) => codeOf(() => producer.putNowait(p * 100 + i))),
          ),
        );
        expect(outcomes.filter((code) => code === "no error")).toHaveLength(10);
        expect(outcomes.filter((code) => code === "ERR_IPC_QUEUE_FULL")).toHaveLength(310);
        expect(await first.qsize()).toBe(10);
        // Waiting puts: 8 × 25 more items through a queue that never holds more than 10.
        let highest = 0;
        let sampling = true;
        const sampler = (async () => {
          while (sampling) highest = Math.max(highest, await first.qsize());
        })();
        const putting = Promise.all(
          producers.map(async (producer, p) => {
            for (let i = 0; i < 25; i++) await producer.put(1000 + p * 100 + i, { timeout: 20_000 });
          }),
        );
        const got: number[] = [];
        while (got.length < 210) got.push(await first.get({ timeout: 20_000 }));
        await putting;
        sampling = false;
        await sampler;
        expect(highest).toBeLessThanOrEqual(10);
        expect(new Set(got).size).toBe(210);
        for (let p = 0; p < 8; p++) {
          const mine = got.filter((value) => value >= 1000 + p * 100 && value < 1100 + p * 100);
          expect(mine).toEqual([...mine].sort((a, b) => a - b)); // per-producer order
        }
      } finally {
        for (const producer of producers) await producer.close();
        await first.close();
        await unlinkRedisQueue(name, { url: server.url });
      }
    });

    it("refuses with codes: a name taken, a queue missing or removed, a bad name, another codec, both url and client", async () => {
      const name = uniqueQueueName();
      const queue = await createRedisQueue(name, { url: server.url });
      try {
        expect(await codeOf(() => createRedisQueue(name, { url: server.url }))).toBe("ERR_IPC_QUEUE_EXISTS");
        expect(await codeOf(() => openRedisQueue(uniqueQueueName(), { url: server.url }))).toBe(
          "ERR_IPC_QUEUE_NOT_FOUND",
        );
        expect(await codeOf(() => createRedisQueue("a b", { url: server.url }))).toBe(
          "ERR_IPC_INVALID_ARGUMENT",
        );
        expect(
          await codeOf(() => createRedisQueue(uniqueQueueName(), { url: server.url, maxsize: -1 })),
        ).toBe("ERR_IPC_INVALID_ARGUMENT");
        const { bytes } = await import("@ipc/core");
        expect(await codeOf(() => openRedisQueue(name, { url: server.url, codec: bytes }))).toBe(
          "ERR_IPC_INVALID_ARGUMENT",
        );
        const client = createClient({ url: server.url });
        expect(await codeOf(() => openRedisQueue(name, { url: server.url, client }))).toBe(
          "ERR_IPC_INVALID_ARGUMENT",
        );
        // A client the user made is used, and left open.
        const viaClient = await openRedisQueue(name, { client });
        await queue.put("via");
        expect(await viaClient.get()).toBe("via");
        await viaClient.close();
        expect(client.isOpen).toBe(true);
        client.destroy();
        expect(await unlinkRedisQueue(name, { url: server.url })).toBe(true);
        expect(await codeOf(() => queue.put(1))).toBe("ERR_IPC_QUEUE_NOT_FOUND");
        expect(await codeOf(() => queue.qsize())).toBe("ERR_IPC_QUEUE_NOT_FOUND");
      } finally {
        await queue.close();
        await unlinkRedisQueue(name, { url: server.url });
      }
    });

    it("a name unlinked and made again is a new queue: old ends fail, old idempotency keys do not apply", async () => {
      const name = uniqueQueueName();
      const first = await createRedisQueue<string>(name, { url: server.url });
      await first.put("x", { idempotencyKey: "k" });
      expect(await unlinkRedisQueue(name, { url: server.url })).toBe(true);
      const second = await createRedisQueue<string>(name, { url: server.url });
      try {
        await second.put("y", { idempotencyKey: "k" });
        expect(await second.qsize()).toBe(1);
        expect(await codeOf(() => first.put("z"))).toBe("ERR_IPC_QUEUE_NOT_FOUND");
        expect(await codeOf(() => first.getNowait())).toBe("ERR_IPC_QUEUE_NOT_FOUND");
        expect(await codeOf(() => first.takeDeadLetters())).toBe("ERR_IPC_QUEUE_NOT_FOUND");
        expect(await second.get()).toBe("y");
      } finally {
        await first.close();
        await second.close();
        await unlinkRedisQueue(name, { url: server.url });
      }
    });

    it("a stopped server: a put's own timeout holds behind a stuck put, and requests without one fail after the end's timeout", async () => {
      const name = uniqueQueueName();
      const queue = await createRedisQueue<number>(name, {
        url: server.url,
        timeout: 500,
        leaseTimeout: 1000,
      });
      try {
        process.kill(server.pid, "SIGSTOP");
        const stuck = queue.put(1); // no timeout: waits for the server
        await new Promise((resolve) => setTimeout(resolve, 50));
        let started = performance.now();
        expect(await codeOf(() => queue.put(2, { timeout: 300 }))).toBe("ERR_IPC_TIMEOUT");
        expect(performance.now() - started).toBeLessThan(1500);
        started = performance.now();
        expect(await codeOf(() => queue.qsize())).toBe("ERR_IPC_QUEUE_UNAVAILABLE");
        expect(performance.now() - started).toBeLessThan(1500);
        // A take's reply may carry an item: a sent one is waited for 5 s (REPLY_GRACE_MS) more. This one
        // reaches the server when it wakes: as a lease it is not lost, it comes back after leaseTimeout.
        started = performance.now();
        expect(await codeOf(() => queue.leaseNowait())).toBe("ERR_IPC_QUEUE_UNAVAILABLE");
        expect(performance.now() - started).toBeLessThan(500 + 5000 + 1500);
        process.kill(server.pid, "SIGCONT");
        await stuck;
        const lease = await queue.lease({ timeout: 5000 });
        expect(lease.value).toBe(1);
        await lease.ack();
        expect(await queue.qsize()).toBe(0); // put 2 was never applied
      } finally {
        process.kill(server.pid, "SIGCONT");
        await queue.close();
        await unlinkRedisQueue(name, { url: server.url });
      }
    });

    it("an end that closes leaves no consumer behind in the group", async () => {
      const name = uniqueQueueName();
      const queue = await createRedisQueue<number>(name, { url: server.url });
      const admin = createClient({ url: server.url });
      admin.on("error", () => {});
      await admin.connect();
      try {
        for (let i = 0; i < 5; i++) {
          const end = await openRedisQueue<number>(name, { url: server.url });
          await queue.put(i);
          await (await end.lease()).ack();
          await end.close();
        }
        const pointer = String(await admin.sendCommand(["GET", `ipcq:{${name}}`]));
        const consumers = (await admin.sendCommand([
          "XINFO",
          "CONSUMERS",
          `ipcq:{${name}}:${pointer}:s`,
          "g",
        ])) as unknown[];
        expect(consumers).toHaveLength(0);
      } finally {
        admin.destroy();
        await queue.close();
        await unlinkRedisQueue(name, { url: server.url });
      }
    });

    it("bad arguments fail with ERR_IPC_INVALID_ARGUMENT before anything is sent", async () => {
      const url = server.url;
      const bad: [string, () => Promise<unknown>][] = [
        ["timeout -1", () => createRedisQueue(uniqueQueueName(), { url, timeout: -1 })],
        ["timeout text", () => openRedisQueue("q", { url, timeout: "abc" as unknown as number })],
        ["codec as text", () => openRedisQueue("q", { url, codec: "json" as never })],
        ["http URL", () => openRedisQueue("q", { url: "http://127.0.0.1:6379" })],
        ["no URL nor client", () => openRedisQueue("q", {})],
        ["no options", () => (createRedisQueue as (name: string) => Promise<unknown>)(uniqueQueueName())],
        ["a client that is not one", () => openRedisQueue("q", { client: {} as never })],
      ];
      for (const [what, run] of bad)
        expect([what, await codeOf(run)]).toEqual([what, "ERR_IPC_INVALID_ARGUMENT"]);
      const name = uniqueQueueName();
      const plain = await createRedisQueue(name, { url });
      try {
        expect(await codeOf(() => openRedisJoinableQueue(name, { url }))).toBe("ERR_IPC_INVALID_ARGUMENT");
      } finally {
        await plain.close();
        await unlinkRedisQueue(name, { url });
      }
    });

    it("a server nobody answers at fails with ERR_IPC_QUEUE_UNAVAILABLE within the timeout", async () => {
      const started = performance.now();
      expect(await codeOf(() => openRedisQueue("q", { url: "redis://127.0.0.1:1", timeout: 500 }))).toBe(
        "ERR_IPC_QUEUE_UNAVAILABLE",
      );
      expect(performance.now() - started).toBeLessThan(3000);
    });
  });

  describe("@ipc/queue/redis across a server restart", () => {
    it("with appendfsync always: no put that resolved and no ack is lost, nothing acked comes back", async () => {
      const server = await startRedisServer({ persistence: "aof" });
      const name = uniqueQueueName();
      let producer: RedisQueue<number> | undefined;
      let consumer: RedisQueue<number> | undefined;
      try {
        producer = await createRedisQueue<number>(name, { url: server.url, leaseTimeout: 5000 });
        consumer = await openRedisQueue<number>(name, { url: server.url });
        const resolved: number[] = [];
        const acked: number[] = [];
        let producing = true;
        const producing1 = (async () => {
          for (let i = 0; producing; i++) {
            await producer.put(i, { timeout: 20_000 });
            resolved.push(i);
          }
        })();
        const consuming = (async () => {
          for (;;) {
            let lease: Awaited<ReturnType<RedisQueue<number>["lease"]>>;
            try {
              lease = await consumer.lease({ timeout: 3000 });
            } catch (error) {
              if (error instanceof IpcError && error.code === "ERR_IPC_TIMEOUT" && !producing) return;
              throw error;
            }
            await lease.ack();
            acked.push(lease.value);
          }
        })();
        await new Promise((resolve) => setTimeout(resolve, 400));
        await server.kill();
        const atKill = resolved.length;
        await new Promise((resolve) => setTimeout(resolve, 300));
        await server.restart();
        await new Promise((resolve) => setTimeout(resolve, 600));
        producing = false;
        await producing1;
        await consuming;
        expect(atKill).toBeGreaterThan(20);
        expect(resolved.length).toBeGreaterThan(atKill); // puts went on after the restart
        expect(acked).toEqual(resolved); // each once, in order: nothing lost, nothing acked twice
        expect(await producer.qsize()).toBe(0);
      } finally {
        await consumer?.close();
        await producer?.close();
        await server.stop();
      }
    });

    it("without persistence the queue is gone after a restart: ERR_IPC_QUEUE_NOT_FOUND, not silence", async () => {
      const server = await startRedisServer();
      const name = uniqueQueueName();
      let queue: RedisQueue<number> | undefined;
      try {
        queue = await createRedisQueue<number>(name, { url: server.url });
        await queue.put(1);
        await server.kill();
        await server.restart();
        expect(await codeOf(() => queue!.put(2, { timeout: 10_000 }))).toBe("ERR_IPC_QUEUE_NOT_FOUND");
        expect(await codeOf(() => queue!.get({ timeout: 10_000 }))).toBe("ERR_IPC_QUEUE_NOT_FOUND");
      } finally {
        await queue?.close();
        await server.stop();
      }
    });
  });
}
