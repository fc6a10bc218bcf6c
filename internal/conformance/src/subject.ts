import type { Channel, Receiver, Sender } from "@ipc/core";
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
  /** One-way subjects: the flows they open (only those checks run). @default both flows */
  flows?: readonly ("local-to-remote" | "remote-to-local")[];
  /**
   * The local end outlives its peer (a persistent receiver, a reconnecting client): when the remote
   * closes or dies, the local end carries on with the next peer (`ConformancePair.nextRemote`) and only a
   * local `close()` (or a protocol error) ends it. Checks that expect the local end to end with its peer
   * are replaced by the survival checks.
   */
  survivesPeer?: boolean;
  /** The largest message the subject carries (a persistent FIFO receiver: PIPE_BUF); larger ones are not tried. @default Infinity */
  maxMessageBytes?: number;
  /** The far end writes whole frames in each write (a persistent FIFO's writers): the check that writes a frame in pieces is not declared. */
  wholeFramesPerWrite?: boolean;
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

/** Any local end a subject may hand the suite: a duplex channel, or one-way ends for one-way subjects. */
export type LocalEnd = Channel<unknown> | Sender<unknown> | Receiver<unknown>;

/** Two connected ends: `local` in the test's process, `remote` driven through {@link RemoteEnd}. */
export interface ConformancePair<L extends LocalEnd = LocalEnd> {
  local: L;
  remote: RemoteEnd;
  /** Cross-process subjects: SIGKILLs the far end's process and resolves once it has exited. */
  killRemote?(): Promise<void>;
  /** Subjects that survive their peer: after the remote closed or was killed, the far end the local end talks to next. */
  nextRemote?(): Promise<RemoteEnd>;
  /** Closes both ends and stops any peer process; safe to call more than once. */
  dispose(): Promise<void>;
}

/** A transport under test. */
export interface ConformanceSubject {
  name: string;
  capabilities: ConformanceCapabilities;
  /** A sender for `"local-to-remote"`, a receiver for `"remote-to-local"`, a channel for `"both"`. */
  open(options: PairOptions): Promise<ConformancePair>;
}
