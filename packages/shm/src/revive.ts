import { bytes, type Codec, IpcError, IpcErrorCode, json, v8 } from "@ipc/core";
import type { SharedDescription } from "@ipc/core/transport";
import { SharedEvent } from "./event.js";
import { SharedLock } from "./lock.js";
import { openShmChannel } from "./open-channel.js";
import { openSharedMap } from "./open-map.js";
import { openSegment } from "./segment.js";
import { SharedSemaphore } from "./semaphore.js";
import { registerSegment } from "./shared-segments.js";
import { type ScalarType, SharedValue } from "./value.js";

// How a child rebuilds what its parent handed it (`Process` args in @ipc/pipe): see shared-segments.ts.

const CODECS: Record<string, Codec<unknown>> = { json, v8, bytes } as Record<string, Codec<unknown>>;

function codecNamed(name: unknown): Codec<unknown> {
  const codec = CODECS[String(name)];
  if (codec === undefined) {
    throw new IpcError(
      IpcErrorCode.UNSUPPORTED,
      `the "${String(name)}" codec cannot travel to a child by name (json, v8 and bytes can); open the object there yourself with its codec`,
    );
  }
  return codec;
}

/** Rebuilds, in a child, an object its parent handed it. */
export function revive(description: SharedDescription, fds: readonly number[]): unknown {
  const data = description.data as {
    name: string | null;
    byteOffset?: number;
    type?: string;
    codec?: string;
  };
  const address = data.name ?? { fd: fds[0]! };
  switch (description.kind) {
    case "segment":
      return openSegment(address);
    case "channel":
      return openShmChannel(address, { codec: codecNamed(data.codec) });
    case "map":
      return openSharedMap(address, { codec: codecNamed(data.codec) });
    default:
      break;
  }
  const segment = openSegment(address);
  registerSegment(segment);
  const offset = data.byteOffset ?? 0;
  switch (description.kind) {
    case "lock":
      return new SharedLock(segment.buffer, offset);
    case "semaphore":
      return new SharedSemaphore(segment.buffer, offset);
    case "event":
      return new SharedEvent(segment.buffer, offset);
    case "value":
      return new SharedValue(segment.buffer, offset, data.type as ScalarType);
    default:
      segment.close();
      throw new IpcError(IpcErrorCode.UNSUPPORTED, `@ipc/shm cannot rebuild a "${description.kind}"`);
  }
}
