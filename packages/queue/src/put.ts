import {
  FLOOR,
  PUT_COUNT,
  R_LENGTH,
  R_OWNER,
  R_SEQ,
  R_STATE,
  READY,
  recordBytes,
  TAIL,
  TAKEN_COUNT,
} from "./layout.js";
import type { QueueMemory } from "./queue-memory.js";

/** Why a put cannot happen now: `maxsize` items are queued, or the ring has no room for the bytes. */
export type PutRefusal = "full" | "no-room";

/**
 * With the producer lock held: appends one record, or says why it cannot now. The record is written past
 * the tail, where no consumer looks, and published by the journal's update of the count and then the
 * tail: a producer killed at any instant leaves either no item or one whole item.
 */
export function putLocked(memory: QueueMemory, payload: Uint8Array): PutRefusal | undefined {
  const { words, shape } = memory;
  // Words only producers write, under the lock the caller holds: plain reads. The consumers' words are
  // read atomically.
  const tail = words[TAIL]!;
  const put = words[PUT_COUNT]!;
  if (shape.maxsize > 0 && (put - Atomics.load(words, TAKEN_COUNT)) >>> 0 >= shape.maxsize) return "full";
  const size = recordBytes(payload.byteLength);
  // The floor as last seen is enough while it leaves room (it only moves forward); else look again.
  if ((tail - memory.floorSeen) >>> 0 > shape.capacity - size) {
    memory.floorSeen = Atomics.load(words, FLOOR);
    if (shape.capacity - memory.span(memory.floorSeen, tail, "the queue") < size) return "no-room";
  }
  const header = memory.recordWord(tail, 0);
  words[header + R_LENGTH] = payload.byteLength;
  words[header + R_STATE] = READY;
  words[header + R_OWNER] = 0;
  words[header + R_SEQ] = put;
  memory.writePayload(tail, payload);
  // The count first: qsize() may count an item a consumer cannot see yet, never the other way round.
  memory.producerJournal.commitTwo(PUT_COUNT, put + 1, TAIL, (tail + size) | 0);
  return undefined;
}
