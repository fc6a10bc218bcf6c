import { IpcErrorCode, isIpcError } from "@ipc/core";
import { describe, expect } from "vitest";
import { expectCode, header, type SuiteContext, sendUntilRejected } from "../context.js";

/** A killed peer process is reported promptly, and nothing hangs (cross-process subjects). */
/** (Subjects that survive their peer run the survival checks instead.) */
export function peerDeathChecks({ subject, survives, outbound, inbound }: SuiteContext): void {
  if (!subject.capabilities.crossProcess || survives) return;
  describe("peer death", () => {
    inbound(
      "ends local iteration, or fails it with ERR_IPC_PEER_GONE, when the remote process is killed between messages",
      async (pair) => {
        await pair.remote.send(["last words"]);
        expect(await pair.local.receive()).toBe("last words");
        await pair.killRemote!();
        // A transport that only sees the stream end reports a clean end; one that knows the process
        // reports the kill. Either way nothing more arrives and nothing hangs.
        const seen: unknown[] = [];
        let failure: unknown;
        try {
          for await (const message of pair.local) seen.push(message);
        } catch (error) {
          failure = error;
        }
        expect(seen).toEqual([]);
        if (failure !== undefined) expect(isIpcError(failure, IpcErrorCode.PEER_GONE)).toBe(true);
        await expect(pair.local.receive()).rejects.toMatchObject({
          code: failure === undefined ? IpcErrorCode.CLOSED : IpcErrorCode.PEER_GONE,
        });
        expect((await pair.local.closed).initiator).toBe("peer");
      },
    );

    if (subject.capabilities.raw) {
      inbound(
        "fails a pending receive with ERR_IPC_PEER_GONE when the remote process dies mid-frame",
        async (pair) => {
          await pair.remote.writeRaw!(Buffer.concat([header(1000), Buffer.alloc(100)]));
          const pending = expectCode(pair.local.receive({ timeout: 10_000 }), IpcErrorCode.PEER_GONE);
          await pair.killRemote!();
          await pending;
          expect(await pair.local.closed).toMatchObject({
            initiator: "peer",
            error: { code: IpcErrorCode.PEER_GONE },
          });
        },
      );
    }

    outbound("rejects sends soon after the remote process is gone, without hanging", async (pair) => {
      await pair.killRemote!();
      const error = await sendUntilRejected(pair.local);
      expect([IpcErrorCode.CLOSED, IpcErrorCode.PEER_GONE]).toContain(error.code);
      expect((await pair.local.closed).initiator).toBe("peer");
    });
  });
}
