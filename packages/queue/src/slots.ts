import { IpcError } from "@ipc/core";
import { identityGone, selfIdentity } from "@ipc/shm/structure";
import { QueueErrorCode } from "./errors.js";
import { HEAD, LEASED_STATE, slotLeasesWord } from "./layout.js";
import type { QueueMemory } from "./queue-memory.js";
import { findBehindHead, type Settled, settleRecord } from "./take.js";

// A consumer slot records a process that holds leases: its identity (pid and start time, so a reused pid
// is not mistaken for it) and how many leases it holds. A process has one slot per queue, whichever copy
// of the package or thread takes the lease.

/** With the consumer lock held: this process's slot, claimed if it has none. @throws `ERR_IPC_QUEUE_TOO_MANY_CONSUMERS` */
export function claimSlotLocked(memory: QueueMemory, cached: number | undefined): number {
  const owners = memory.slotOwners;
  const me = selfIdentity();
  if (cached !== undefined && owners[cached * 2] === me) return cached;
  const count = memory.shape.slotCount;
  for (let slot = 0; slot < count; slot++) if (owners[slot * 2] === me) return slot;
  for (let pass = 0; pass < 2; pass++) {
    for (let slot = 0; slot < count; slot++) {
      if (owners[slot * 2] !== 0n) continue;
      // A free slot holds no leases (a dead owner's are returned before its slot is freed).
      Atomics.store(memory.words, slotLeasesWord(slot), 0);
      Atomics.store(owners, slot * 2, me);
      return slot;
    }
    if (pass === 0) sweepLocked(memory);
  }
  throw new IpcError(
    QueueErrorCode.TOO_MANY_CONSUMERS,
    `${count} processes already hold leases on this queue; settle leases (ack/nack) before more processes take them`,
  );
}

/** True when some slot's owner is gone (a cheap look, outside the lock, before a sweep). */
export function someOwnerGone(memory: QueueMemory): boolean {
  const owners = memory.slotOwners;
  for (let slot = 0; slot < memory.shape.slotCount; slot++) {
    const owner = Atomics.load(owners, slot * 2);
    if (owner !== 0n && identityGone(owner)) return true;
  }
  return false;
}

/**
 * With the consumer lock held: returns every lease of every dead owner (for another delivery, or to the
 * dead letters past `maxDeliveries`) and frees its slot. One journal commit per lease, so a sweeper
 * killed midway leaves the rest for the next sweep.
 */
export function sweepLocked(memory: QueueMemory): { returned: number; finished: number } {
  const owners = memory.slotOwners;
  let returned = 0;
  let finished = 0;
  for (let slot = 0; slot < memory.shape.slotCount; slot++) {
    const owner = Atomics.load(owners, slot * 2);
    if (owner === 0n || !identityGone(owner)) continue;
    const head = memory.words[HEAD]!;
    for (;;) {
      const record = findBehindHead(memory, head, LEASED_STATE, slot);
      if (record === undefined) break;
      const settled: Settled = settleRecord(memory, record.position, record.deliveries, slot, "return");
      memory.consumerJournal.commit();
      if (settled.readyAgain) returned++;
      if (settled.finished) finished++;
    }
    memory.consumerJournal.set(slotLeasesWord(slot), 0);
    memory.consumerJournal.commit();
    Atomics.compareExchange(owners, slot * 2, owner, 0n);
  }
  return { returned, finished };
}
