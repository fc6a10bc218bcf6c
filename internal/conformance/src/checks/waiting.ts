import { IpcErrorCode } from "@ipc/core";
import { describe, expect } from "vitest";
import { expectCode, type SuiteContext } from "../context.js";

/** Every wait takes a timeout and an AbortSignal, and a wait that ends so has no effect. */
export function waitingChecks({ outbound, inbound }: SuiteContext): void {
  describe("waiting", () => {
    inbound("rejects receive with ERR_IPC_TIMEOUT and consumes nothing", async ({ local, remote }) => {
      await expectCode(local.receive({ timeout: 30 }), IpcErrorCode.TIMEOUT);
      await remote.send(["later"]);
      expect(await local.receive({ timeout: 10_000 })).toBe("later");
    });

    inbound(
      "rejects receive with ERR_IPC_ABORTED when its signal aborts, and consumes nothing",
      async ({ local, remote }) => {
        const controller = new AbortController();
        const pending = expectCode(local.receive({ signal: controller.signal }), IpcErrorCode.ABORTED);
        controller.abort(new Error("stop"));
        await pending;
        await remote.send(["kept"]);
        expect(await local.receive()).toBe("kept");
      },
    );

    inbound("rejects receive at once when its signal is already aborted", async ({ local, remote }) => {
      await remote.send(["buffered"]);
      await expectCode(local.receive({ signal: AbortSignal.abort() }), IpcErrorCode.ABORTED);
      expect(await local.receive()).toBe("buffered");
    });

    outbound(
      "rejects send at once when its signal is already aborted, sending nothing",
      async ({ local, remote }) => {
        await local.send("first");
        await expectCode(local.send("skipped", { signal: AbortSignal.abort() }), IpcErrorCode.ABORTED);
        await local.send("second");
        expect((await remote.take(2)).values).toEqual(["first", "second"]);
      },
    );

    inbound("rejects receive with an invalid timeout with ERR_IPC_INVALID_ARGUMENT", async ({ local }) => {
      await expectCode(local.receive({ timeout: -1 }), IpcErrorCode.INVALID_ARGUMENT);
    });

    outbound(
      "rejects send and flush with an invalid timeout with ERR_IPC_INVALID_ARGUMENT",
      async ({ local }) => {
        await expectCode(local.send("x", { timeout: Number.NaN }), IpcErrorCode.INVALID_ARGUMENT);
        await expectCode(local.flush({ timeout: -5 }), IpcErrorCode.INVALID_ARGUMENT);
      },
    );
  });
}
