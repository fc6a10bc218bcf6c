import type { CloseInfo } from "@ipc/core";

/** What a remote `take` saw: the messages it received, and the code that stopped it early, if any. */
export interface TakeResult {
  values: unknown[];
  /** `"end"` when the channel ended cleanly, else the `IpcError` code of the failure. */
  stoppedBy?: string;
}

/** A `CloseInfo` that can cross a process boundary. */
export interface RemoteCloseInfo {
  initiator: CloseInfo["initiator"];
  code?: string;
}

/**
 * The far end of a conformance pair, driven by the suite: in this process for in-memory subjects, or in a
 * peer process through its control channel. Every operation runs on the far end's real channel.
 */
export interface RemoteEnd {
  /** Sends `messages` in order, awaiting each send. */
  send(messages: readonly unknown[]): Promise<void>;
  /** Receives up to `count` messages; stops early at the end or at an error other than `ERR_IPC_DECODE`. */
  take(count: number, timeoutMs?: number): Promise<TakeResult>;
  /** Receives `count` messages and sends each straight back. */
  echo(count: number): Promise<void>;
  /** Writes raw bytes into the wire towards the local end, bypassing framing (raw-capable subjects only). */
  writeRaw?(bytes: Uint8Array): Promise<void>;
  /** Closes the far end's channel. */
  close(): Promise<void>;
  /** How the far end's channel ended (waits until it has). */
  closed(): Promise<RemoteCloseInfo>;
}
