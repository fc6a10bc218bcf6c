import { bytes, type Codec, IpcError, IpcErrorCode, json, v8 } from "@ipc/core";
import type { SharedDescription } from "@ipc/core/transport";
import { openQueue } from "./open-queue.js";

const CODECS: Record<string, Codec<unknown>> = { json, v8, bytes } as Record<string, Codec<unknown>>;

/** Opens, in a child process, a queue its parent handed it (see `Process` in @ipc/pipe). */
export function reviveQueue(description: SharedDescription, fds: readonly number[]): unknown {
  const data = description.data as { name: string | null; codec: string };
  const codec = CODECS[data.codec];
  if (codec === undefined) {
    throw new IpcError(
      IpcErrorCode.UNSUPPORTED,
      `a queue with the "${data.codec}" codec cannot be handed to a child (only json, v8 and bytes travel by name); give the child its name and open it there with openQueue(name, { codec })`,
    );
  }
  const address = data.name ?? { fd: fds[0]! };
  return openQueue(address, { codec });
}
