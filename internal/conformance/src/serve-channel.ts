import { type Channel, isIpcError } from "@ipc/core";
import type { RemoteCloseInfo, RemoteEnd, TakeResult } from "./remote.js";
import type { LocalEnd } from "./subject.js";

/** A {@link RemoteEnd} that drives `end` directly, in the process that holds it. */
export function serveChannel(end: LocalEnd, writeRaw?: (bytes: Uint8Array) => Promise<void>): RemoteEnd {
  // The suite only calls what the end's flow allows; a one-way end rejects the rest itself.
  const channel = end as Channel<unknown>;
  const remote: RemoteEnd = {
    async send(messages) {
      for (const message of messages) await channel.send(message);
    },
    async take(count, timeoutMs) {
      const result: TakeResult = { values: [] };
      while (result.values.length < count) {
        try {
          result.values.push(
            await channel.receive(timeoutMs === undefined ? undefined : { timeout: timeoutMs }),
          );
        } catch (error) {
          if (!isIpcError(error)) throw error;
          if (error.code === "ERR_IPC_DECODE") {
            result.values.push({ decodeError: true });
            continue;
          }
          result.stoppedBy = error.code === "ERR_IPC_CLOSED" ? "end" : error.code;
          break;
        }
      }
      return result;
    },
    async echo(count) {
      for (let i = 0; i < count; i += 1) await channel.send(await channel.receive());
    },
    close: () => channel.close(),
    async closed(): Promise<RemoteCloseInfo> {
      const info = await channel.closed;
      return info.error
        ? { initiator: info.initiator, code: info.error.code }
        : { initiator: info.initiator };
    },
  };
  if (writeRaw) remote.writeRaw = writeRaw;
  return remote;
}
