import type { Segment } from "@ipc/shm";
import { SharedLock } from "@ipc/shm";
import { corrupt } from "./corrupt.js";
import { Journal } from "./journal.js";
import {
  CONSUMER_JOURNAL,
  CONSUMER_LOCK_BYTE,
  DATA_BYTE,
  DEAD,
  DEAD_STATE,
  DONE,
  FLOOR,
  HEAD,
  LEASED_STATE,
  PRODUCER_JOURNAL,
  PRODUCER_LOCK_BYTE,
  PUT_COUNT,
  type QueueShape,
  R_LENGTH,
  R_OWNER,
  R_STATE,
  READY,
  RECORD_HEADER_BYTES,
  recordBytes,
  SLOT_BYTES,
  SLOTS_BYTE,
  TAIL,
} from "./layout.js";

/** A record's header as read, checked. */
export interface RecordView {
  /** Stream position. */
  readonly position: number;
  readonly length: number;
  readonly state: number;
  readonly deliveries: number;
  /** Bytes it takes in the ring. */
  readonly size: number;
}

/**
 * A queue's shared memory as typed views, with the checks every read of it needs: positions and lengths
 * come from memory other processes write, so each is checked before it is used.
 */
export class QueueMemory {
  readonly shape: QueueShape;
  readonly words: Int32Array;
  readonly data: Uint8Array;
  readonly mask: number;
  readonly producerLock: SharedLock;
  readonly consumerLock: SharedLock;
  readonly producerJournal: Journal;
  readonly consumerJournal: Journal;
  readonly slotOwners: BigInt64Array;
  /** This process's last look at the tail (consumers) and the floor (producers): both only move forward. */
  tailSeen = 0;
  floorSeen = 0;

  constructor(segment: Segment, shape: QueueShape) {
    this.shape = shape;
    const buffer = segment.buffer;
    this.words = new Int32Array(buffer, 0, (DATA_BYTE + shape.capacity) >> 2);
    this.data = new Uint8Array(buffer, DATA_BYTE, shape.capacity);
    this.mask = shape.capacity - 1;
    this.producerLock = new SharedLock(buffer, PRODUCER_LOCK_BYTE);
    this.consumerLock = new SharedLock(buffer, CONSUMER_LOCK_BYTE);
    this.producerJournal = new Journal(this.words, PRODUCER_JOURNAL, 2, (i) => i === TAIL || i === PUT_COUNT);
    const slotsEnd = (SLOTS_BYTE + shape.slotCount * SLOT_BYTES) >> 2;
    const dataStart = DATA_BYTE >> 2;
    const dataEnd = this.words.length;
    this.consumerJournal = new Journal(
      this.words,
      CONSUMER_JOURNAL,
      8,
      (i) =>
        (i >= HEAD && i <= DEAD) ||
        i === FLOOR ||
        (i >= SLOTS_BYTE >> 2 && i < slotsEnd && (i - (SLOTS_BYTE >> 2)) % 4 === 2) ||
        (i >= dataStart &&
          i < dataEnd &&
          ((i - dataStart) % 4 === R_STATE || (i - dataStart) % 4 === R_OWNER)),
    );
    this.slotOwners = new BigInt64Array(buffer, SLOTS_BYTE, shape.slotCount * (SLOT_BYTES / 8));
  }

  /** Word index of field `field` of the record at stream position `position`. */
  recordWord(position: number, field: number): number {
    return ((DATA_BYTE + (position & this.mask)) >> 2) + field;
  }

  /** Bytes between two stream positions (`to` at or after `from`), checked against the capacity. */
  span(from: number, to: number, what: string): number {
    const bytes = (to - from) >>> 0;
    if (bytes > this.shape.capacity || (bytes & 15) !== 0) {
      throw corrupt(`${what} spans ${bytes} bytes of a ${this.shape.capacity}-byte ring`);
    }
    return bytes;
  }

  /**
   * The record at `position`, which must end at or before `limit`; its state is read through `journal`
   * when the caller is mid-update. @throws `ERR_IPC_PROTOCOL` for an impossible record
   */
  record(position: number, limit: number, journal?: Journal): RecordView {
    // Written before the producer published the record (the caller read TAIL atomically since).
    const length = this.words[this.recordWord(position, R_LENGTH)]!;
    const at = this.recordWord(position, R_STATE);
    const stateWord = journal === undefined ? this.words[at]! : journal.get(at);
    const state = stateWord & 15;
    const size = recordBytes(length);
    const room = (limit - position) >>> 0;
    if (length < 0 || length > this.shape.capacity - RECORD_HEADER_BYTES || size > room) {
      throw corrupt(
        `a record at ${position >>> 0} claims ${length} bytes with ${room} left before ${limit >>> 0}`,
      );
    }
    if (state !== READY && state !== LEASED_STATE && state !== DONE && state !== DEAD_STATE) {
      throw corrupt(`a record at ${position >>> 0} has state ${state}`);
    }
    return { position, length, state, deliveries: stateWord >>> 4, size };
  }

  /** A copy of a record's payload (taken before decoding: the memory is shared). */
  payload(record: RecordView): Uint8Array {
    return this.payloadAt(record.position, record.length);
  }

  /** A copy of the `length` payload bytes of the record at `position`. */
  payloadAt(position: number, length: number): Uint8Array {
    const start = (position + RECORD_HEADER_BYTES) & this.mask;
    const first = Math.min(length, this.shape.capacity - start);
    if (first === length) return this.data.slice(start, start + first);
    const out = new Uint8Array(length);
    out.set(this.data.subarray(start, start + first), 0);
    out.set(this.data.subarray(0, length - first), first);
    return out;
  }

  /** Copies `payload` in as the body of the record at `position` (the header is the caller's). */
  writePayload(position: number, payload: Uint8Array): void {
    const start = (position + RECORD_HEADER_BYTES) & this.mask;
    const first = Math.min(payload.byteLength, this.shape.capacity - start);
    this.data.set(first === payload.byteLength ? payload : payload.subarray(0, first), start);
    if (first < payload.byteLength) this.data.set(payload.subarray(first), 0);
  }
}
