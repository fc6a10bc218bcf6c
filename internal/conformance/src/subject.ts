import type { Channel } from "@ipc/core";
import type { CodecName } from "./codecs.js";
import type { RemoteEnd } from "./remote.js";

/** What a transport can do; decides which checks of the suite apply. */
export interface ConformanceCapabilities {
  /** Both ends send and receive. One-way subjects are opened with the flow each check needs. */
  duplex: boolean;
  /** The far end can write raw bytes into the wire (`RemoteEnd.writeRaw`): framing checks apply. */
  raw: boolean;
  /** The far end lives in another process, which `ConformancePair.killRemote` can kill: peer-death checks apply. */
  crossProcess: boolean;
}

/** Which way messages must flow in a pair (`"both"` only for duplex subjects). */
export type Flow = "local-to-remote" | "remote-to-local" | "both";

/** How the suite wants a pair opened. */
export interface PairOptions {
  flow: Flow;
  localCodec: CodecName;
  remoteCodec: CodecName;
  /** The local end's `maxFrameSize`; the remote keeps the default. */
  localMaxFrameSize?: number;
}

/** Two connected ends: `local` in the test's process, `remote` driven through {@link RemoteEnd}. */
export interface ConformancePair {
  local: Channel<unknown>;
  remote: RemoteEnd;
  /** Cross-process subjects: SIGKILLs the far end's process and resolves once it has exited. */
  killRemote?(): Promise<void>;
  /** Closes both ends and stops any peer process; safe to call more than once. */
  dispose(): Promise<void>;
}

/** A transport under test. */
export interface ConformanceSubject {
  name: string;
  capabilities: ConformanceCapabilities;
  open(options: PairOptions): Promise<ConformancePair>;
}
