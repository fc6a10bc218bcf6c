import type { RemoteEnd } from "./remote.js";
import { serveChannel } from "./serve-channel.js";
import type { LocalEnd } from "./subject.js";

/** A control request from the suite to a peer process. */
export interface ControlRequest {
  id: number;
  op: keyof RemoteEnd;
  args: unknown[];
}

/** The peer's answer to a {@link ControlRequest}. */
export interface ControlReply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: { code?: string; message: string };
}

/**
 * Runs in a peer process started with an IPC control channel (`stdio: [..., "ipc"]`, advanced
 * serialization): serves the suite's requests on `channel` until the parent disconnects, then exits.
 */
export function hostRemoteEnd(channel: LocalEnd, writeRaw?: (bytes: Uint8Array) => Promise<void>): void {
  if (process.send === undefined) throw new Error("hostRemoteEnd needs an IPC control channel to its parent");
  const remote = serveChannel(channel, writeRaw);
  process.on("message", (request: ControlRequest) => {
    const operation = remote[request.op] as ((...args: unknown[]) => Promise<unknown>) | undefined;
    const reply = (message: ControlReply) => process.send?.(message);
    if (operation === undefined) {
      reply({ id: request.id, ok: false, error: { message: `unsupported operation ${request.op}` } });
      return;
    }
    operation.apply(remote, request.args).then(
      (result) => reply({ id: request.id, ok: true, result }),
      (error: { code?: string; message?: string }) =>
        reply({
          id: request.id,
          ok: false,
          error: { code: error?.code, message: String(error?.message ?? error) },
        }),
    );
  });
  process.on("disconnect", () => process.exit(0));
  process.send({ ready: true });
}
