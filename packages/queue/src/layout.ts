import { IpcError, IpcErrorCode } from "@ipc/core";
import type { Segment } from "@ipc/shm";
import { notOfKind, readSegmentHeader, type SegmentKind, writeSegmentHeader } from "@ipc/shm/structure";

// The queue's segment (docs/queue-format.md has the same table). Int32 word indexes, 64-byte lines:
// the producers' words, the wake-up words and the consumers' words never share a cache line.

/** A queue segment's kind: its magic number and version. */
export const QUEUE_SEGMENT: SegmentKind = {
  magic: 0x6970_7131, // "ipq1"
  version: 1,
  description: "an @ipc/queue queue",
};

// Line 0, fixed at creation (words 0-1 are the segment header's magic and version).
export const CAPACITY = 2;
export const MAX_SIZE = 3;
export const FLAGS = 4;
export const MAX_DELIVERIES = 5;
export const SLOT_COUNT = 6;
/** When dead consumers were last looked for (milliseconds, modulo 2^32). */
export const LAST_SWEEP = 7;
const FIXED_FIELDS = 5; // CAPACITY .. SLOT_COUNT

// Line 1, producers (under the producer lock).
export const PRODUCER_LOCK_BYTE = 64;
/** Items ever put, modulo 2^32. */
export const PUT_COUNT = 20;
export const PRODUCER_JOURNAL = 21; // valid, count, then 2 entries of (index, value): words 21-26

// Line 2: the tail alone (producers write it, consumers read it without the lock).
/** Stream position after the last committed record. */
export const TAIL = 32;

// Line 3, wake-ups: each signal word is bumped (and futex-woken) when its sleeper count is not zero.
export const ITEM_SIGNAL = 48;
export const ITEM_SLEEPERS = 49;
export const SPACE_SIGNAL = 50;
export const SPACE_SLEEPERS = 51;
export const FINISH_SIGNAL = 52;
export const FINISH_SLEEPERS = 53;
/** 1 while a consumer spins waiting for an item: at most one spins (the others sleep), and a put wakes no sleeper meanwhile. */
export const SPINNER = 54;

// Lines 4-5, consumers (under the consumer lock).
export const CONSUMER_LOCK_BYTE = 256;
/** Stream position of the first record never delivered. */
export const HEAD = 68;
/** Items taken out of the ready set (gets and leases, minus leases returned), modulo 2^32. */
export const TAKEN_COUNT = 69;
/** Items finished (acked, task done, or dead-lettered), modulo 2^32: join waits for PUT_COUNT. */
export const FINISHED_COUNT = 70;
/** Records behind HEAD that are ready again (returned leases). */
export const REDELIVERABLE = 71;
/** Records currently leased. */
export const LEASED = 72;
/** Dead letters held. */
export const DEAD = 73;
export const CONSUMER_JOURNAL = 74; // valid, count, then 8 entries: words 74-91

// Line 6: the floor alone (consumers write it, producers read it without the lock).
/** Stream position of the oldest record still needed (leased, ready again, or a dead letter). */
export const FLOOR = 96;

/** Consumer slots: 16 bytes each, an owner identity (8 bytes) then the count of its leases. */
export const SLOTS_BYTE = 448;
export const SLOT_BYTES = 16;
/** Processes that can hold leases at once. */
export const DEFAULT_SLOT_COUNT = 128;
/** The slot word that counts a slot's leases. */
export function slotLeasesWord(slot: number): number {
  return (SLOTS_BYTE + slot * SLOT_BYTES + 8) >> 2;
}

/** Where records start: a page in. */
export const DATA_BYTE = 4096;

// A record: a 16-byte header, then the payload, padded to 16 bytes. Records may wrap around the end of the
// ring (the header never does: positions and the capacity are multiples of 16).
export const RECORD_HEADER_BYTES = 16;
/** Payload length in bytes. */
export const R_LENGTH = 0;
/** State in the low 4 bits, delivery count above. */
export const R_STATE = 1;
/** The consumer slot that leases it. */
export const R_OWNER = 2;
/** Its put sequence number (PUT_COUNT before it), modulo 2^32. */
export const R_SEQ = 3;

export const READY = 1;
export const LEASED_STATE = 2;
export const DONE = 3;
export const DEAD_STATE = 4;

/** Bytes a record of `length` payload bytes takes in the ring. */
export function recordBytes(length: number): number {
  return RECORD_HEADER_BYTES + ((length + 15) & ~15);
}

export const FLAG_JOINABLE = 1;

/** Smallest and largest ring capacity, in bytes. */
export const MIN_CAPACITY_BYTES = 4096;
export const MAX_CAPACITY_BYTES = 2 ** 30;
/** Capacity of a queue unless `capacity` says otherwise: 4 MiB. */
export const DEFAULT_QUEUE_CAPACITY_BYTES = 4 * 1024 * 1024;
/** Deliveries of one item before it becomes a dead letter, unless `maxDeliveries` says otherwise. */
export const DEFAULT_MAX_DELIVERIES = 5;

/** The shape a queue is created with. */
export interface QueueShape {
  readonly capacity: number;
  readonly maxsize: number;
  readonly joinable: boolean;
  readonly maxDeliveries: number;
  readonly slotCount: number;
}

/** Bytes of a queue segment for rings of `capacity` bytes. */
export function queueSegmentSize(capacity: number): number {
  return DATA_BYTE + capacity;
}

/** Checks a shape asked for. @throws `ERR_IPC_INVALID_ARGUMENT` */
export function checkShape(options: {
  capacity?: number | undefined;
  maxsize?: number | undefined;
  maxDeliveries?: number | undefined;
}): Omit<QueueShape, "joinable" | "slotCount"> {
  const capacity = options.capacity ?? DEFAULT_QUEUE_CAPACITY_BYTES;
  if (!isCapacity(capacity)) {
    throw new IpcError(
      IpcErrorCode.INVALID_ARGUMENT,
      `capacity must be a power of two from ${MIN_CAPACITY_BYTES} to 2^30 bytes, got ${String(capacity)}`,
    );
  }
  const maxsize = options.maxsize ?? 0;
  if (!Number.isSafeInteger(maxsize) || maxsize < 0 || maxsize > 0x7fff_ffff) {
    throw new IpcError(
      IpcErrorCode.INVALID_ARGUMENT,
      `maxsize must be an integer from 0 (no limit but the capacity) to 2^31 - 1, got ${String(maxsize)}`,
    );
  }
  const maxDeliveries = options.maxDeliveries ?? DEFAULT_MAX_DELIVERIES;
  if (!Number.isSafeInteger(maxDeliveries) || maxDeliveries < 1 || maxDeliveries > 0xff_ffff) {
    throw new IpcError(
      IpcErrorCode.INVALID_ARGUMENT,
      `maxDeliveries must be an integer from 1 to 2^24 - 1, got ${String(maxDeliveries)}`,
    );
  }
  return { capacity, maxsize, maxDeliveries };
}

function isCapacity(capacity: number): boolean {
  return (
    Number.isSafeInteger(capacity) &&
    capacity >= MIN_CAPACITY_BYTES &&
    capacity <= MAX_CAPACITY_BYTES &&
    (capacity & (capacity - 1)) === 0
  );
}

/** Writes a new queue's header into fresh (zeroed) memory: an empty queue, no consumer. */
export function formatQueueSegment(segment: Segment, shape: QueueShape): void {
  writeSegmentHeader(segment, QUEUE_SEGMENT, [
    shape.capacity,
    shape.maxsize,
    shape.joinable ? FLAG_JOINABLE : 0,
    shape.maxDeliveries,
    shape.slotCount,
  ]);
}

/**
 * The shape of an existing queue segment, each field checked (another process may have written the
 * header). @throws `ERR_IPC_PROTOCOL` when it is not a queue
 */
export function readQueueShape(segment: Segment): QueueShape {
  const [capacity, maxsize, flags, maxDeliveries, slotCount] = readSegmentHeader(
    segment,
    QUEUE_SEGMENT,
    FIXED_FIELDS,
  ) as [number, number, number, number, number];
  const bad = (why: string) => notOfKind(segment, QUEUE_SEGMENT, why);
  if (!isCapacity(capacity)) throw bad(`its header claims a capacity of ${capacity} bytes`);
  if (segment.size < queueSegmentSize(capacity)) {
    throw bad(`${segment.size} bytes cannot hold a ring of ${capacity} bytes`);
  }
  if (maxsize < 0) throw bad(`its header claims a maxsize of ${maxsize}`);
  if ((flags & ~FLAG_JOINABLE) !== 0) throw bad(`its header has unknown flags ${flags}`);
  if (maxDeliveries < 1 || maxDeliveries > 0xff_ffff) {
    throw bad(`its header claims maxDeliveries of ${maxDeliveries}`);
  }
  if (slotCount < 1 || SLOTS_BYTE + slotCount * SLOT_BYTES > DATA_BYTE) {
    throw bad(`its header claims ${slotCount} consumer slots`);
  }
  return { capacity, maxsize, joinable: (flags & FLAG_JOINABLE) !== 0, maxDeliveries, slotCount };
}
