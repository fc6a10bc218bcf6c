import { fileURLToPath } from "node:url";
import { createQueue } from "@ipc/queue";
import { createSegment, uniqueSegmentName } from "@ipc/shm";
import { spawnPeer } from "@ipc-internal/test-utils";
import { describe, expect, it } from "vitest";
import { CAP, DIED_IN_LOCK, REGION } from "./fixtures/kill-log.js";

const victimScript = fileURLToPath(new URL("./fixtures/victim.ts", import.meta.url));
const KILLS = Number(process.env.IPC_QUEUE_KILLS ?? 1000);
const STAGES = ["staged", "committed", "applying", "applied"] as const;

type Role = "producer" | "consumer";

describe("processes killed at any instant", () => {
  it(`${KILLS} SIGKILLs of producers, consumers and lock holders: nothing resolved is lost, nothing acked comes back, the queue stays usable`, async () => {
    const queueName = uniqueSegmentName("ipc-test-kill");
    const logName = uniqueSegmentName("ipc-test-kill-log");
    const maxSlots = KILLS * 2 + 64;
    await using queue = createQueue<number>({ name: queueName, capacity: 1 << 20, maxDeliveries: 100_000 });
    using logSegment = createSegment(maxSlots * REGION * 4, { name: logName });
    const log = new Int32Array(logSegment.buffer);
    const roles: Role[] = [];
    let kills = 0;
    while (kills < KILLS && roles.length < maxSlots - 6) {
      const batch = [];
      for (let k = 0; k < 6; k++) {
        const slot = roles.length;
        const role: Role = Math.random() < 0.45 ? "producer" : "consumer";
        roles.push(role);
        const args = [role, queueName, logName, String(slot)];
        if (Math.random() < 0.3) {
          args.push(
            STAGES[Math.floor(Math.random() * STAGES.length)]!,
            String(1 + Math.floor(Math.random() * 20)),
          );
        }
        const peer = spawnPeer(victimScript, { args, timeoutMs: 20_000 });
        const ready = new Promise<void>((resolve) => peer.child.once("message", () => resolve()));
        batch.push({ peer, ready });
      }
      await Promise.all(batch.map(({ ready, peer }) => Promise.race([ready, peer.exited])));
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 30));
      for (const { peer } of batch) peer.child.kill("SIGKILL");
      for (const { peer } of batch) {
        const exit = await peer.exited;
        if (exit.signal === "SIGKILL") kills++;
      }
    }
    expect(kills).toBeGreaterThanOrEqual(KILLS);

    // Drain what is left, as one more consumer: every lease of a dead consumer comes back within ~100 ms.
    const drained: { id: number; delivery: number }[] = [];
    for (;;) {
      const lease = await queue.lease({ timeout: 1000 }).catch(() => undefined);
      if (lease === undefined) {
        if (queue.leasedCount() === 0) break;
        continue;
      }
      drained.push({ id: lease.value, delivery: lease.deliveryCount });
      await lease.ack();
    }
    expect(queue.qsize()).toBe(0);
    expect(queue.deadLetterCount()).toBe(0);

    // What the logs say.
    const confirmed: number[] = [];
    const deliveries = new Map<number, { acked: boolean; delivery: number }[]>();
    const record = (id: number, acked: boolean, delivery: number) => {
      const list = deliveries.get(id) ?? [];
      list.push({ acked, delivery });
      deliveries.set(id, list);
    };
    roles.forEach((role, slot) => {
      const base = slot * REGION;
      const count = Math.min(Atomics.load(log, base), CAP);
      for (let n = 0; n < count; n++) {
        if (role === "producer") confirmed.push(log[base + 1 + n]!);
        else
          record(log[base + 1 + 3 * n]!, Atomics.load(log, base + 2 + 3 * n) === 2, log[base + 3 + 3 * n]!);
      }
    });
    for (const { id, delivery } of drained) record(id, true, delivery);
    // Each item's deliveries in the order they happened (the queue counts them).
    for (const list of deliveries.values()) list.sort((a, b) => a.delivery - b.delivery);
    // Every put that resolved was delivered. (An item whose every delivery went to a consumer that died
    // before logging its ack was acked, or it would have been delivered again: to the drain at the latest.)
    const lost = confirmed.filter((id) => !deliveries.has(id));
    expect(lost).toEqual([]);
    // Nothing acked came back: an item delivered again was never acked before (its consumer died first).
    // And no delivery happened twice: each has its own count (gaps are deliveries to a consumer killed
    // before it logged them).
    const ackedThenAgain = [...deliveries].filter(([, list]) => list.slice(0, -1).some((d) => d.acked));
    expect(ackedThenAgain).toEqual([]);
    const repeated = [...deliveries].filter(([, list]) =>
      list.some((d, i) => i > 0 && d.delivery <= list[i - 1]!.delivery),
    );
    expect(repeated).toEqual([]);
    // Every delivery is of an id some producer put (no garbage out of a torn record).
    for (const id of deliveries.keys()) expect(roles[Math.floor(id / 1000)]).toBe("producer");
    // And the queue still works.
    await queue.put(42);
    expect(await queue.get({ timeout: 1000 })).toBe(42);
    let inLock = 0;
    for (let slot = 0; slot < roles.length; slot++) inLock += log[slot * REGION + DIED_IN_LOCK]!;
    expect(inLock).toBeGreaterThan(KILLS / 20);
    console.log(
      `kill test: ${kills} kills (${inLock} inside a lock, mid-commit), ${roles.length} processes, ${confirmed.length} puts confirmed, ${drained.length} drained at the end`,
    );
  }, 600_000);
});
