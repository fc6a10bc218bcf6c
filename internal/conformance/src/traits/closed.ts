import { IpcErrorCode } from "@ipc/core";
import { describe, expect } from "vitest";
import { expectCode, type SuiteContext } from "../context.js";

/**
 * Every operation on a closed end, and on an end that is closing, fails with one code, ERR_IPC_CLOSED
 * (abstract-level's "closed" trait); `close()` stays idempotent and `closed` settles once.
 */
export function closedTrait({ outbound, inbound }: SuiteContext): void {
  for (const when of ["closed", "closing"] as const) {
    describe(`trait: every operation on a ${when} end`, () => {
      outbound(`rejects send and flush with ERR_IPC_CLOSED on a ${when} end`, async ({ local }) => {
        const closing = local.close();
        if (when === "closed") await closing;
        else expect(local.state).toBe("closing");
        await expectCode(local.send("late"), IpcErrorCode.CLOSED);
        await expectCode(local.send("late", { timeout: 10 }), IpcErrorCode.CLOSED);
        await expectCode(local.flush(), IpcErrorCode.CLOSED);
        await closing;
        expect(local.state).toBe("closed");
      });

      inbound(
        `rejects receive with ERR_IPC_CLOSED and ends iteration on a ${when} end`,
        async ({ local, remote }) => {
          await remote.send(["dropped by the close"]);
          const closing = local.close();
          if (when === "closed") await closing;
          else expect(local.state).toBe("closing");
          await expectCode(local.receive(), IpcErrorCode.CLOSED);
          await expectCode(local.receive({ timeout: 10 }), IpcErrorCode.CLOSED);
          expect(await local[Symbol.asyncIterator]().next()).toEqual({ done: true, value: undefined });
          await closing;
        },
      );

      outbound(`keeps close idempotent and closed settled once on a ${when} end`, async ({ local }) => {
        const first = local.closed;
        const closing = local.close();
        if (when === "closed") await closing;
        const again = local.close();
        await Promise.all([closing, again, local.close()]);
        expect(local.closed).toBe(first);
        expect(await first).toEqual({ initiator: "local" });
        expect(local.state).toBe("closed");
      });
    });
  }
}
