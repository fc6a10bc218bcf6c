import { type Channel, isIpcError, type Receiver, type Sender } from "@ipc/core";
import { expect, it } from "vitest";
import type { ConformancePair, ConformanceSubject, Flow, LocalEnd, PairOptions } from "./subject.js";

export const KIB = 1024;
export const MIB = 1024 * KIB;

type Test<L extends LocalEnd> = (pair: ConformancePair<L>) => Promise<void>;
/** How a check opens its pair; `testTimeout` (ms) for a check whose length depends on the kernel's buffers. */
type CheckOptions = Partial<PairOptions> & { testTimeout?: number };
type Register<L extends LocalEnd> = (name: string, test: Test<L>, options?: CheckOptions) => void;

/**
 * What every group of checks gets: the subject, and one way to declare a check per flow. A check is only
 * declared when the subject can open that flow, so a one-way subject runs exactly the checks it can.
 */
export interface SuiteContext {
  subject: ConformanceSubject;
  /** The subject's local end can send (a check group of sends only is declared when true). */
  sends: boolean;
  /** The subject's local end can receive. */
  receives: boolean;
  /** The local end outlives its peer (see `ConformanceCapabilities.survivesPeer`). */
  survives: boolean;
  /** The largest message the subject carries. */
  maxMessageBytes: number;
  /** Declares a check on a pair whose local end sends (a duplex subject's channel, or a one-way sender). */
  outbound: Register<Sender<unknown>>;
  /** Declares a check on a pair whose local end receives. */
  inbound: Register<Receiver<unknown>>;
  /** Declares a check on a duplex pair (duplex subjects only). */
  duplex: Register<Channel<unknown>>;
}

/** The context for `subject`: each pair is opened for its check and disposed however the check ends. */
export function suiteContext(subject: ConformanceSubject): SuiteContext {
  const { duplex, flows = ["local-to-remote", "remote-to-local"] } = subject.capabilities;
  const register =
    <L extends LocalEnd>(wanted: Flow): Register<L> =>
    (name, test, { testTimeout, ...options } = {}) => {
      if (wanted === "both" ? !duplex : !duplex && !flows.includes(wanted)) return;
      it(
        name,
        async () => {
          const flow = duplex ? "both" : wanted;
          const pair = await subject.open({ localCodec: "json", remoteCodec: "json", ...options, flow });
          try {
            await test(pair as ConformancePair<L>);
          } finally {
            await pair.dispose();
          }
        },
        testTimeout,
      );
    };
  return {
    subject,
    sends: duplex || flows.includes("local-to-remote"),
    receives: duplex || flows.includes("remote-to-local"),
    survives: subject.capabilities.survivesPeer === true,
    maxMessageBytes: subject.capabilities.maxMessageBytes ?? Number.POSITIVE_INFINITY,
    outbound: register("local-to-remote"),
    inbound: register("remote-to-local"),
    duplex: register("both"),
  };
}

export async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  await expect(promise).rejects.toMatchObject({ code });
}

/** A 4-byte frame header announcing `length`. */
export function header(length: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeInt32BE(length, 0);
  return bytes;
}

/** `size` bytes of a pattern that is not periodic at any power of two. */
export function patterned(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 1) bytes[i] = (i * 31 + (i >>> 12)) & 0xff;
  return bytes;
}

export function equalBytes(actual: unknown, expected: Uint8Array): boolean {
  return actual instanceof Uint8Array && Buffer.compare(actual, expected) === 0;
}

/** Sends every 10 ms until a send rejects (at most 200 tries); returns the rejection. */
export async function sendUntilRejected(sender: Sender<unknown>): Promise<{ code: string }> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    try {
      await sender.send(`probe ${attempt}`);
    } catch (error) {
      expect(isIpcError(error)).toBe(true);
      return error as { code: string };
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("every send succeeded although the remote end was gone");
}
