import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import type { Peer } from "@ipc-internal/test-utils";
import type { RemoteEnd } from "./remote.js";
import type { ControlReply, ControlRequest } from "./remote-host.js";
import type { ConformancePair, LocalEnd } from "./subject.js";

/** An error the peer process reported, with the `IpcError` code it carried. */
export class RemoteError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code: string | undefined) {
    super(message);
    this.code = code;
  }
}

/** Waits for a peer started with {@link hostRemoteEnd} to report that its channel is ready. */
export async function waitForRemoteReady(child: ChildProcess): Promise<void> {
  const exited = once(child, "exit").then(([code, signal]) => {
    throw new Error(`the peer process exited (code ${code}, signal ${signal}) before its channel was ready`);
  });
  const ready = (async () => {
    for (;;) {
      const [message] = await once(child, "message");
      if ((message as { ready?: boolean }).ready) return;
    }
  })();
  await Promise.race([ready, exited]);
}

/** A {@link RemoteEnd} whose operations run in `child`, a peer process serving {@link hostRemoteEnd}. */
export function remoteEndInProcess(child: ChildProcess, raw: boolean): RemoteEnd {
  let nextId = 0;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: unknown) => void }>();
  child.on("message", (reply: ControlReply) => {
    const waiter = pending.get(reply.id);
    if (waiter === undefined) return;
    pending.delete(reply.id);
    if (reply.ok) waiter.resolve(reply.result);
    else waiter.reject(new RemoteError(reply.error?.message ?? "remote failure", reply.error?.code));
  });
  child.once("exit", (code, signal) => {
    for (const waiter of pending.values()) {
      waiter.reject(new Error(`the peer process exited (code ${code}, signal ${signal}) during a request`));
    }
    pending.clear();
  });
  const call = (op: ControlRequest["op"], ...args: unknown[]) =>
    new Promise<never>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ id, op, args } satisfies ControlRequest);
    });
  const remote: RemoteEnd = {
    send: (messages) => call("send", messages),
    take: (count, timeoutMs) => call("take", count, timeoutMs),
    echo: (count) => call("echo", count),
    close: () => call("close"),
    closed: () => call("closed"),
  };
  if (raw) remote.writeRaw = (bytes) => call("writeRaw", bytes);
  return remote;
}

/** Options of {@link pairWithPeer}. */
export interface PeerPairOptions {
  /** The peer can write raw bytes past the framing (`RemoteEnd.writeRaw`). */
  raw: boolean;
  /** Closes this process's side at dispose. @default `local.close({ timeout: 1000 })` */
  closeLocal?: () => Promise<void>;
}

/**
 * The pair of `local` and the far end that peer process `peer` hosts with `hostRemoteEnd`, once the peer
 * says it is ready: `killRemote` SIGKILLs it, `dispose` closes this side and then stops it.
 */
export async function pairWithPeer(
  local: LocalEnd,
  peer: Peer,
  options: PeerPairOptions,
): Promise<ConformancePair> {
  await waitForRemoteReady(peer.child);
  const closeLocal = options.closeLocal ?? (() => local.close({ timeout: 1000 }));
  return {
    local,
    remote: remoteEndInProcess(peer.child, options.raw),
    async killRemote() {
      peer.child.kill("SIGKILL");
      await peer.exited;
    },
    async dispose() {
      await closeLocal();
      await peer.stop();
    },
  };
}

/**
 * The pair of `local` and a succession of peer processes, for subjects that survive their peer: the
 * first peer is `first`; `nextRemote` stops the current one and starts the next with `startNext`;
 * `killRemote` SIGKILLs the current one; `dispose` closes this side and stops whichever runs.
 */
export async function pairWithSuccessivePeers(
  local: LocalEnd,
  first: Peer,
  startNext: () => Promise<Peer>,
  options: PeerPairOptions,
): Promise<ConformancePair> {
  const pair = await pairWithPeer(local, first, options);
  let current = first;
  return {
    ...pair,
    async killRemote() {
      current.child.kill("SIGKILL");
      await current.exited;
    },
    async nextRemote() {
      await current.stop();
      current = await startNext();
      await waitForRemoteReady(current.child);
      return remoteEndInProcess(current.child, options.raw);
    },
    async dispose() {
      await pair.dispose();
      await current.stop();
    },
  };
}
