import { IpcErrorCode, isIpcError } from "@ipc/core";
import { describe, expect } from "vitest";
import { KIB, MIB, type SuiteContext } from "../context.js";

/** The most a transport may buffer for a reader that does not read, before senders must wait. */
const BACKPRESSURE_BOUND_BYTES = 64 * MIB;

/** A reader that does not read makes senders wait; what waits was not sent. */
export function backpressureChecks({ sends, outbound }: SuiteContext): void {
  if (!sends) return;
  describe("backpressure", () => {
    outbound(
      "makes a sender wait when the reader does not read, buffering a bounded amount",
      async ({ local, remote }) => {
        const chunk = new Uint8Array(64 * KIB);
        let accepted = 0;
        for (;;) {
          try {
            await local.send(chunk.fill(accepted % 251), { timeout: 300 });
            accepted += 1;
          } catch (error) {
            expect(isIpcError(error, IpcErrorCode.TIMEOUT)).toBe(true);
            break;
          }
          expect(accepted * chunk.byteLength).toBeLessThan(BACKPRESSURE_BOUND_BYTES);
        }
        const taken = await remote.take(accepted);
        expect(taken.values.map((value) => (value as Uint8Array)[0])).toEqual(
          Array.from({ length: accepted }, (_, i) => i % 251),
        );
        // The send that timed out sent nothing.
        expect((await remote.take(1, 300)).stoppedBy).toBe(IpcErrorCode.TIMEOUT);
      },
      { localCodec: "bytes", remoteCodec: "bytes" },
    );

    outbound(
      "makes a sender of empty messages wait too: each message costs memory, not only its bytes",
      async ({ local, remote }) => {
        const empty = new Uint8Array(0);
        let accepted = 0;
        for (;;) {
          try {
            await local.send(empty, { timeout: 300 });
            accepted += 1;
          } catch (error) {
            expect(isIpcError(error, IpcErrorCode.TIMEOUT)).toBe(true);
            break;
          }
          // 64 MiB of bookkeeping at 64 bytes a message: a million messages is already too many.
          expect(accepted).toBeLessThan(BACKPRESSURE_BOUND_BYTES / 64);
        }
        expect((await remote.take(accepted)).values).toHaveLength(accepted);
      },
      // Over TCP loopback the kernel's autotuned buffers take about a million empty frames before the
      // sender must wait: about 15 s of sends on a 2-vCPU machine (measured), hence the longer limit.
      { localCodec: "bytes", remoteCodec: "bytes", testTimeout: 120_000 },
    );

    outbound(
      "sends nothing when a send waiting for room is aborted, and keeps order afterwards",
      async ({ local, remote }) => {
        const chunk = new Uint8Array(64 * KIB);
        let accepted = 0;
        for (;;) {
          const controller = new AbortController();
          const timer = setTimeout(() => controller.abort(), 300);
          try {
            await local.send(chunk, { signal: controller.signal });
            accepted += 1;
          } catch (error) {
            expect(isIpcError(error, IpcErrorCode.ABORTED)).toBe(true);
            break;
          } finally {
            clearTimeout(timer);
          }
        }
        const last = local.send(new Uint8Array([42]));
        const taken = await remote.take(accepted + 1);
        await last;
        expect(taken.values.length).toBe(accepted + 1);
        expect(taken.values.at(-1)).toEqual(new Uint8Array([42]));
      },
      { localCodec: "bytes", remoteCodec: "bytes" },
    );
  });
}
