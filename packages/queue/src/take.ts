import { corrupt } from "./corrupt.js";
import {
  DEAD,
  DEAD_STATE,
  DONE,
  FINISHED_COUNT,
  FLOOR,
  HEAD,
  LEASED,
  LEASED_STATE,
  R_LENGTH,
  R_OWNER,
  R_SEQ,
  R_STATE,
  READY,
  REDELIVERABLE,
  recordBytes,
  slotLeasesWord,
  TAIL,
  TAKEN_COUNT,
} from "./layout.js";
import type { QueueMemory, RecordView } from "./queue-memory.js";

/** An item taken out of the queue: its bytes, and what identifies its record while it is leased. */
export interface TakenItem extends LeaseTicket {
  readonly payload: Uint8Array;
}

/** What identifies a lease: the record, its sequence number, the delivery and the slot that holds it. */
export interface LeaseTicket {
  readonly position: number;
  readonly seq: number;
  /** Deliveries so far, this one included. */
  readonly deliveries: number;
  readonly slot: number;
}

/** How a lease ends: acknowledged, returned for another delivery, or sent to the dead letters at once. */
export type Settlement = "ack" | "return" | "dead";

/** What a settlement changed, so the caller can wake whom it concerns. */
export interface Settled {
  readonly readyAgain: boolean;
  readonly spaceFreed: boolean;
  readonly finished: boolean;
}

/**
 * With the consumer lock held: takes the next ready item (a returned lease first, then the oldest new
 * one). With `slot` it is leased to that consumer slot; without, it is gone at once. Undefined when no
 * item is ready. The update is one journal commit: a consumer killed at any instant took the item or not.
 */
// Every word these functions read is one consumers write under the lock the caller holds (plain reads
// are ordered by it), except the producers' TAIL, read atomically.
export function takeLocked(memory: QueueMemory, slot: number | undefined): TakenItem | undefined {
  const { words } = memory;
  const journal = memory.consumerJournal;
  const head = words[HEAD]!;
  const record = nextReady(memory, head);
  if (record === undefined) return undefined;
  const payload = memory.payload(record);
  const deliveries = record.deliveries + 1;
  const stateWord = memory.recordWord(record.position, R_STATE);
  const seq = words[memory.recordWord(record.position, R_SEQ)]!;
  if (record.position === head) journal.set(HEAD, head + record.size);
  else journal.set(REDELIVERABLE, words[REDELIVERABLE]! - 1);
  journal.set(TAKEN_COUNT, words[TAKEN_COUNT]! + 1);
  if (slot === undefined) {
    if (record.position === head && words[FLOOR] === head) {
      journal.set(FLOOR, head + record.size); // nothing is held: the floor follows the head
    } else {
      journal.set(stateWord, DONE | (deliveries << 4));
      advanceFloor(memory);
    }
  } else {
    journal.set(stateWord, LEASED_STATE | (deliveries << 4));
    journal.set(memory.recordWord(record.position, R_OWNER), slot);
    journal.set(slotLeasesWord(slot), words[slotLeasesWord(slot)]! + 1);
    journal.set(LEASED, words[LEASED]! + 1);
  }
  journal.commit();
  return { payload, position: record.position, seq, deliveries, slot: slot ?? -1 };
}

/**
 * With the consumer lock held: a plain get's bytes, the item gone at once; undefined when none is ready.
 * The common case (nothing leased or returned: the floor is at the head) touches three words.
 */
export function getLocked(memory: QueueMemory): Uint8Array | undefined {
  const { words } = memory;
  const head = words[HEAD]!;
  if (words[REDELIVERABLE]! !== 0 || words[FLOOR]! !== head) return takeLocked(memory, undefined)?.payload;
  let tail = memory.tailSeen;
  if (tail === head || (tail - head) >>> 0 > memory.shape.capacity) {
    tail = Atomics.load(words, TAIL);
    memory.tailSeen = tail;
    memory.span(head, tail, "the ready items");
    if (head === tail) return undefined;
  }
  const header = memory.recordWord(head, 0);
  const length = words[header + R_LENGTH]!;
  const size = recordBytes(length);
  if (length < 0 || length > memory.shape.capacity - 16 || size > (tail - head) >>> 0) {
    throw corrupt(
      `a record at ${head >>> 0} claims ${length} bytes with ${(tail - head) >>> 0} before the tail`,
    );
  }
  if ((words[header + R_STATE]! & 15) !== READY) throw corrupt(`the record at the head is not ready`);
  const payload = memory.payloadAt(head, length);
  const next = (head + size) | 0;
  memory.consumerJournal.commitThree(HEAD, next, TAKEN_COUNT, (words[TAKEN_COUNT]! + 1) | 0, FLOOR, next);
  return payload;
}

/** The next ready record: one returned behind the head if any, else the one at the head. */
function nextReady(memory: QueueMemory, head: number): RecordView | undefined {
  const { words } = memory;
  if (words[REDELIVERABLE]! > 0) {
    const found = findBehindHead(memory, head, READY);
    if (found === undefined) throw corrupt("it counts returned items that are not there");
    return found;
  }
  // The tail as last seen is enough while it is ahead of the head (it only moves forward); else look again.
  let tail = memory.tailSeen;
  if (tail === head || (tail - head) >>> 0 > memory.shape.capacity) {
    tail = Atomics.load(words, TAIL);
    memory.tailSeen = tail;
    memory.span(head, tail, "the ready items");
    if (head === tail) return undefined;
  }
  const record = memory.record(head, tail);
  if (record.state !== READY) throw corrupt(`the record at the head is in state ${record.state}`);
  return record;
}

/** The first record between the floor and the head in `state` (and leased by `slot`, if given). */
export function findBehindHead(
  memory: QueueMemory,
  head: number,
  state: number,
  slot?: number,
): RecordView | undefined {
  const journal = memory.consumerJournal;
  let position = journal.get(FLOOR);
  memory.span(position, head, "the held items");
  while (position !== head) {
    const record = memory.record(position, head, journal);
    if (
      record.state === state &&
      (slot === undefined || journal.get(memory.recordWord(position, R_OWNER)) === slot)
    ) {
      return record;
    }
    position = (position + record.size) | 0;
  }
  return undefined;
}

/** Moves the floor past finished records (staged in the journal); true when it moved. */
function advanceFloor(memory: QueueMemory): boolean {
  const journal = memory.consumerJournal;
  const head = journal.get(HEAD);
  let floor = journal.get(FLOOR);
  const start = floor;
  while (floor !== head) {
    const record = memory.record(floor, head, journal);
    if (record.state !== DONE) break;
    floor = (floor + record.size) | 0;
  }
  if (floor === start) return false;
  journal.set(FLOOR, floor);
  return true;
}

/**
 * With the consumer lock held: ends a lease. Undefined when the ticket no longer names a record leased to
 * its slot (it was settled already). A returned item past `maxDeliveries` becomes a dead letter.
 */
export function settleLocked(memory: QueueMemory, ticket: LeaseTicket, how: Settlement): Settled | undefined {
  const { words } = memory;
  const journal = memory.consumerJournal;
  const head = words[HEAD]!;
  const floor = words[FLOOR]!;
  const held = memory.span(floor, head, "the held items");
  if ((ticket.position - floor) >>> 0 >= held) return undefined;
  const stateWord = memory.recordWord(ticket.position, R_STATE);
  const current = words[stateWord]!;
  if (
    (current & 15) !== LEASED_STATE ||
    current >>> 4 !== ticket.deliveries ||
    words[memory.recordWord(ticket.position, R_OWNER)]! !== ticket.slot ||
    words[memory.recordWord(ticket.position, R_SEQ)]! !== ticket.seq
  ) {
    return undefined;
  }
  const settled = settleRecord(memory, ticket.position, ticket.deliveries, ticket.slot, how);
  journal.commit();
  return settled;
}

/** Stages the end of the lease on the record at `position` (leased to `slot`, delivered `deliveries` times). */
export function settleRecord(
  memory: QueueMemory,
  position: number,
  deliveries: number,
  slot: number,
  how: Settlement,
): Settled {
  const { words, shape } = memory;
  const journal = memory.consumerJournal;
  const stateWord = memory.recordWord(position, R_STATE);
  journal.set(slotLeasesWord(slot), words[slotLeasesWord(slot)]! - 1);
  journal.set(LEASED, words[LEASED]! - 1);
  const finish = () => {
    if (shape.joinable) journal.set(FINISHED_COUNT, words[FINISHED_COUNT]! + 1);
  };
  if (how === "ack") {
    journal.set(stateWord, DONE | (deliveries << 4));
    finish();
    return { readyAgain: false, spaceFreed: advanceFloor(memory), finished: shape.joinable };
  }
  if (how === "dead" || deliveries >= shape.maxDeliveries) {
    journal.set(stateWord, DEAD_STATE | (deliveries << 4));
    journal.set(DEAD, words[DEAD]! + 1);
    finish();
    return { readyAgain: false, spaceFreed: false, finished: shape.joinable };
  }
  journal.set(stateWord, READY | (deliveries << 4));
  journal.set(REDELIVERABLE, words[REDELIVERABLE]! + 1);
  journal.set(TAKEN_COUNT, words[TAKEN_COUNT]! - 1);
  return { readyAgain: true, spaceFreed: false, finished: false };
}

/** With the consumer lock held: takes the oldest dead letter out of the queue, or undefined. */
export function takeDeadLocked(memory: QueueMemory): TakenItem | undefined {
  const { words } = memory;
  if (words[DEAD]! <= 0) return undefined;
  const head = words[HEAD]!;
  const record = findBehindHead(memory, head, DEAD_STATE);
  if (record === undefined) throw corrupt("it counts dead letters that are not there");
  const payload = memory.payload(record);
  // Read before the commit: once the floor passes the record, a producer may reuse its bytes.
  const seq = words[memory.recordWord(record.position, R_SEQ)]!;
  const journal = memory.consumerJournal;
  journal.set(memory.recordWord(record.position, R_STATE), DONE | (record.deliveries << 4));
  journal.set(DEAD, words[DEAD]! - 1);
  advanceFloor(memory);
  journal.commit();
  return { payload, position: record.position, seq, deliveries: record.deliveries, slot: -1 };
}
