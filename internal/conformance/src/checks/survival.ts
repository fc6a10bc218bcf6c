import { IpcErrorCode } from "@ipc/core";
import { describe, expect } from "vitest";
import { expectCode, header, type SuiteContext } from "../context.js";

/**
 * For ends that outlive their peer (a persistent receiver, a reconnecting client): the peer closing or
 * dying does not end them; they carry on with the next peer, and never deliver a message made of two
 * peers' bytes.
 */
export function survivalChecks({ subject, survives, outbound, inbound }: SuiteContext): void {
  if (!survives) return;
  describe("surviving the peer", () => {
    inbound("keeps receiving from the next peer after the remote closes", async (pair) => {
      await pair.remote.send(["before"]);
      await pair.remote.close();
      expect(await pair.local.receive({ timeout: 10_000 })).toBe("before");
      const next = await pair.nextRemote!();
      await next.send(["after"]);
      expect(await pair.local.receive({ timeout: 10_000 })).toBe("after");
      expect(pair.local.state).toBe("open");
    });

    inbound("keeps a pending receive waiting (not ended) when the remote closes", async (pair) => {
      const pending = pair.local.receive({ timeout: 10_000 });
      await pair.remote.close();
      const next = await pair.nextRemote!();
      await next.send(["for the pending receive"]);
      expect(await pending).toBe("for the pending receive");
    });

    outbound("delivers to the next peer what was sent after the remote closed", async (pair) => {
      await pair.local.send("first");
      expect((await pair.remote.take(1, 10_000)).values).toEqual(["first"]);
      await pair.remote.close();
      const next = await pair.nextRemote!();
      await pair.local.send("second");
      expect((await next.take(1, 10_000)).values).toEqual(["second"]);
    });

    if (!subject.capabilities.crossProcess) return;

    inbound("keeps receiving from the next peer after the remote process is killed", async (pair) => {
      await pair.remote.send(["last words"]);
      expect(await pair.local.receive({ timeout: 10_000 })).toBe("last words");
      await pair.killRemote!();
      const next = await pair.nextRemote!();
      await next.send(["from the next one"]);
      expect(await pair.local.receive({ timeout: 10_000 })).toBe("from the next one");
    });

    if (subject.capabilities.raw) {
      inbound(
        "drops a message cut short by a peer that died, and delivers the next peer's messages whole",
        async (pair) => {
          await pair.remote.send(["whole"]);
          await pair.remote.writeRaw!(Buffer.concat([header(1000), Buffer.alloc(100, 7)]));
          expect(await pair.local.receive({ timeout: 10_000 })).toBe("whole");
          await pair.killRemote!();
          const next = await pair.nextRemote!();
          await next.send([{ next: "peer" }, "again"]);
          expect(await pair.local.receive({ timeout: 10_000 })).toEqual({ next: "peer" });
          expect(await pair.local.receive({ timeout: 10_000 })).toBe("again");
        },
      );
    }

    outbound("delivers to the next peer what was sent after the remote process was killed", async (pair) => {
      await pair.killRemote!();
      const next = await pair.nextRemote!();
      await pair.local.send("after the kill");
      const { values } = await next.take(1, 10_000);
      expect(values).toEqual(["after the kill"]);
    });

    inbound("ends only with a local close, after which receive fails with ERR_IPC_CLOSED", async (pair) => {
      await pair.killRemote!();
      await pair.local.close();
      await expectCode(pair.local.receive(), IpcErrorCode.CLOSED);
      expect(await pair.local.closed).toEqual({ initiator: "local" });
    });
  });
}
