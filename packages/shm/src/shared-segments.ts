import { IpcError, IpcErrorCode } from "@ipc/core";
import type { SharedDescription } from "@ipc/core/transport";
import type { Segment } from "./segment.js";

// Which segment a buffer belongs to, so that a lock or a value (a view on a buffer) can say how a child
// maps the same memory. On globalThis: shared by every copy of this package in the process.
const SEGMENTS = Symbol.for("@ipc/shm.segmentsByBuffer.v1");
const segments = ((globalThis as Record<symbol, unknown>)[SEGMENTS] ??= new WeakMap()) as WeakMap<
  ArrayBuffer,
  Segment
>;

/** Remembers which segment maps `segment.buffer`. */
export function registerSegment(segment: Segment): void {
  segments.set(segment.buffer, segment);
}

/** How a child maps the segment behind `buffer`. @throws `ERR_IPC_INVALID_ARGUMENT` when no segment of this package maps it */
function segmentAddress(buffer: ArrayBuffer, what: string): { data: { name: string | null }; fds: number[] } {
  const segment = segments.get(buffer);
  if (segment === undefined) {
    throw new IpcError(
      IpcErrorCode.INVALID_ARGUMENT,
      `this ${what} is not in a segment made by createSegment or openSegment, so it cannot be handed to another process`,
    );
  }
  return { data: { name: segment.name ?? null }, fds: segment.fd === undefined ? [] : [segment.fd] };
}

/** The description of a segment, or of a primitive at `byteOffset` of one. */
export function describeInSegment(
  buffer: ArrayBuffer,
  kind: string,
  extra: Record<string, string | number> = {},
): SharedDescription {
  const { data, fds } = segmentAddress(buffer, kind);
  return { package: "@ipc/shm", kind, data: { ...data, ...extra }, fds };
}

/** The description of a segment-backed object opened by address (a channel's other end, a map). */
export function describeByAddress(
  segment: Segment,
  kind: string,
  extra: Record<string, string | number> = {},
): SharedDescription {
  return {
    package: "@ipc/shm",
    kind,
    data: { name: segment.name ?? null, ...extra },
    fds: segment.fd === undefined ? [] : [segment.fd],
  };
}
