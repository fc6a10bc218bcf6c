import { IpcErrorCode } from "@ipc/core";
import { describe, expect } from "vitest";
import { expectCode, type SuiteContext, sendUntilRejected } from "../context.js";

/**
 * Closing from either side: what was sent first arrives, then the end; `closed` tells the story.
 * (Subjects that survive their peer do not end when it closes: see the survival checks.)
 */
export function closingChecks({ survives, outbound, inbound }: SuiteContext): void {
  describe("closing", () => {
    outbound(
      "ends the remote's receiving after everything the local end sent, when the local end closes",
      async ({ local, remote }) => {
        const sends = Array.from({ length: 200 }, (_, i) => local.send(i));
        await Promise.all(sends);
        await local.close();
        expect(await remote.take(201, 10_000)).toEqual({
          values: Array.from({ length: 200 }, (_, i) => i),
          stoppedBy: "end",
        });
        expect(await local.closed).toEqual({ initiator: "local" });
        expect(await remote.closed()).toEqual({ initiator: "peer" });
      },
    );

    if (!survives)
      inbound(
        "ends local iteration after everything the remote sent, when the remote closes",
        async ({ local, remote }) => {
          await remote.send(["a", "b", "c"]);
          await remote.close();
          const seen: unknown[] = [];
          for await (const message of local) seen.push(message);
          expect(seen).toEqual(["a", "b", "c"]);
          await expectCode(local.receive(), IpcErrorCode.CLOSED);
          expect(await local.closed).toEqual({ initiator: "peer" });
          expect(await remote.closed()).toEqual({ initiator: "local" });
        },
      );

    inbound("rejects a pending receive with ERR_IPC_CLOSED when the local end closes", async ({ local }) => {
      const pending = expectCode(local.receive(), IpcErrorCode.CLOSED);
      await local.close();
      await pending;
    });

    inbound("ends a pending iteration when the local end closes", async ({ local }) => {
      const iterator = local[Symbol.asyncIterator]();
      const next = iterator.next();
      await local.close();
      expect(await next).toEqual({ done: true, value: undefined });
    });

    if (!survives)
      inbound(
        "rejects a pending receive with ERR_IPC_CLOSED when the remote closes",
        async ({ local, remote }) => {
          const pending = expectCode(local.receive(), IpcErrorCode.CLOSED);
          await remote.close();
          await pending;
        },
      );

    if (!survives)
      outbound(
        "rejects sends soon after the remote has closed, with ERR_IPC_CLOSED or ERR_IPC_PEER_GONE",
        async ({ local, remote }) => {
          await remote.close();
          // A one-way writer (a pipe, say) may only learn of it from its next write: allow a few.
          const error = await sendUntilRejected(local);
          expect([IpcErrorCode.CLOSED, IpcErrorCode.PEER_GONE]).toContain(error.code);
          expect((await local.closed).initiator).toBe("peer");
        },
      );

    outbound("closes the channel at the end of an `await using` block", async ({ local, remote }) => {
      {
        await using channel = local;
        await channel.send("inside");
      }
      expect(local.state).toBe("closed");
      expect(await remote.take(2, 10_000)).toEqual({ values: ["inside"], stoppedBy: "end" });
    });
  });
}
