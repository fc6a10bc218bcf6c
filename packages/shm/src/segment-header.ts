import { IpcError, IpcErrorCode } from "@ipc/core";
import { createSegment, openSegment, type Segment, type SegmentAddress } from "./segment.js";

/** What a formatted segment is: a magic number, a version, and a name for messages. */
export interface SegmentKind {
  readonly magic: number;
  readonly version: number;
  /** "an @ipc/shm channel", for messages. */
  readonly description: string;
}

/** Header words every formatted segment starts with: magic, version, then the kind's own fields. */
const MAGIC_WORD = 0;
const VERSION_WORD = 1;
const FIRST_FIELD_WORD = 2;

/**
 * Writes a header into fresh (zeroed) memory: the kind's `fields` first, the magic number last, so a
 * process that sees the magic sees a whole header.
 */
export function writeSegmentHeader(segment: Segment, kind: SegmentKind, fields: readonly number[]): void {
  const words = new Int32Array(segment.buffer, 0, FIRST_FIELD_WORD + fields.length);
  for (const [index, value] of fields.entries()) Atomics.store(words, FIRST_FIELD_WORD + index, value);
  Atomics.store(words, VERSION_WORD, kind.version);
  Atomics.store(words, MAGIC_WORD, kind.magic);
}

/**
 * The kind's fields from a segment's header. The values come from shared memory that another process may
 * have written: the caller validates each. @throws `ERR_IPC_PROTOCOL` when the segment is not of `kind`
 */
export function readSegmentHeader(segment: Segment, kind: SegmentKind, fieldCount: number): number[] {
  const wordCount = FIRST_FIELD_WORD + fieldCount;
  if (segment.size < wordCount * 4) throw notOfKind(segment, kind);
  const words = new Int32Array(segment.buffer, 0, wordCount);
  if (Atomics.load(words, MAGIC_WORD) !== kind.magic || Atomics.load(words, VERSION_WORD) !== kind.version) {
    throw notOfKind(segment, kind);
  }
  return Array.from({ length: fieldCount }, (_, index) => Atomics.load(words, FIRST_FIELD_WORD + index));
}

/** `ERR_IPC_PROTOCOL` for a segment that is not (or no longer) of `kind`, saying `why`. */
export function notOfKind(segment: Segment, kind: SegmentKind, why?: string): IpcError {
  const where = segment.name ?? "the segment";
  return new IpcError(
    IpcErrorCode.PROTOCOL,
    `${where} is not ${kind.description} (version ${kind.version})${why ? `: ${why}` : ""}; check the name or descriptor`,
  );
}

/** Where a formatted segment lives (the object built on it decides when its name goes). */
export interface FormattedSegmentOptions {
  name?: string | undefined;
  mode?: number | undefined;
}

/** Creates a segment of `size` bytes and builds on it; if `build` throws, the segment and its name are gone. */
export function createFormatted<R>(
  size: number,
  options: FormattedSegmentOptions,
  build: (segment: Segment) => R,
): R {
  const segment = createSegment(size, { name: options.name, mode: options.mode, unlink: "never" });
  try {
    return build(segment);
  } catch (error) {
    if (segment.name !== undefined) segment.unlink();
    segment.close();
    throw error;
  }
}

/** Opens a segment and builds on it; if `build` throws, the mapping is released. */
export function openFormatted<R>(address: SegmentAddress, build: (segment: Segment) => R): R {
  const segment = openSegment(address);
  try {
    return build(segment);
  } catch (error) {
    segment.close();
    throw error;
  }
}
