import { IpcError, IpcErrorCode } from "@ipc/core";
import { DOORBELL_ID_BYTES, DOORBELL_KEY_BYTES, type DoorbellAddress } from "./doorbell.js";
import { RING_HEADER_BYTES } from "./ring.js";
import type { Segment } from "./segment.js";
import { notOfKind, readSegmentHeader, type SegmentKind, writeSegmentHeader } from "./segment-header.js";

/** A shared-memory channel's segment (see docs/wire-format.md). */
export const CHANNEL_SEGMENT: SegmentKind = {
  magic: 0x6970_6331, // "ipc1"
  version: 1,
  description: "an @ipc/shm channel",
};

/** Bytes before the first ring: the header words, padded to a cache line. */
export const CHANNEL_HEADER_BYTES = 64;
/** Smallest and largest ring capacity, in bytes. */
export const MIN_RING_CAPACITY_BYTES = 4096;
export const MAX_RING_CAPACITY_BYTES = 2 ** 30;

/** Bytes a channel segment needs for rings of `capacity` bytes each way. */
export function channelSegmentSize(capacity: number): number {
  return CHANNEL_HEADER_BYTES + 2 * (RING_HEADER_BYTES + capacity);
}

/** Byte offset of ring `index` (0: creator → opener, 1: opener → creator) in a segment of rings of `capacity`. */
export function ringOffset(index: 0 | 1, capacity: number): number {
  return CHANNEL_HEADER_BYTES + index * (RING_HEADER_BYTES + capacity);
}

function isRingCapacity(capacity: number): boolean {
  return (
    Number.isSafeInteger(capacity) &&
    capacity >= MIN_RING_CAPACITY_BYTES &&
    capacity <= MAX_RING_CAPACITY_BYTES &&
    (capacity & (capacity - 1)) === 0
  );
}

/** Checks a ring capacity asked for: a power of two from 4 KiB to 1 GiB. @throws `ERR_IPC_INVALID_ARGUMENT` */
export function checkRingCapacity(capacity: number): number {
  if (!isRingCapacity(capacity)) {
    throw new IpcError(
      IpcErrorCode.INVALID_ARGUMENT,
      `capacity must be a power of two from ${MIN_RING_CAPACITY_BYTES} to 2^30 bytes, got ${String(capacity)}`,
    );
  }
  return capacity;
}

/** Byte offsets of the doorbell's address id and key in the header (all zero: the channel has no doorbell). */
const DOORBELL_ID_OFFSET = 16;
const DOORBELL_KEY_OFFSET = DOORBELL_ID_OFFSET + DOORBELL_ID_BYTES;

/**
 * Writes a new channel's header into `segment` (its rings start zeroed: empty, no end attached), with
 * where its doorbell listens when it has one.
 */
export function formatChannelSegment(
  segment: Segment,
  capacity: number,
  doorbell: DoorbellAddress | undefined,
): void {
  if (doorbell !== undefined) {
    const header = new Uint8Array(segment.buffer, 0, CHANNEL_HEADER_BYTES);
    header.set(doorbell.id, DOORBELL_ID_OFFSET);
    header.set(doorbell.key, DOORBELL_KEY_OFFSET);
  }
  writeSegmentHeader(segment, CHANNEL_SEGMENT, [capacity]);
}

/** Where the channel's doorbell listens, copied out of the header; undefined when it has none. */
export function readDoorbellAddress(segment: Segment): DoorbellAddress | undefined {
  const header = new Uint8Array(segment.buffer, 0, CHANNEL_HEADER_BYTES);
  const id = header.slice(DOORBELL_ID_OFFSET, DOORBELL_ID_OFFSET + DOORBELL_ID_BYTES);
  if (id.every((byte) => byte === 0)) return undefined;
  return { id, key: header.slice(DOORBELL_KEY_OFFSET, DOORBELL_KEY_OFFSET + DOORBELL_KEY_BYTES) };
}

/**
 * The ring capacity of an existing channel segment, checked against the segment's real size (the header
 * is in memory another process can write). @throws `ERR_IPC_PROTOCOL` when it is not a channel segment
 */
export function readChannelCapacity(segment: Segment): number {
  const [capacity] = readSegmentHeader(segment, CHANNEL_SEGMENT, 1) as [number];
  if (!isRingCapacity(capacity)) {
    throw notOfKind(segment, CHANNEL_SEGMENT, `its header claims a ring capacity of ${capacity} bytes`);
  }
  if (segment.size < channelSegmentSize(capacity)) {
    throw notOfKind(
      segment,
      CHANNEL_SEGMENT,
      `${segment.size} bytes cannot hold two rings of ${capacity} bytes`,
    );
  }
  return capacity;
}
