import { IpcErrorCode } from "@ipc/core";
import { describe, expect } from "vitest";
import { expectCode, header, type SuiteContext } from "../context.js";

/** Frame size limits and malformed framing: the receiver closes, nothing is allocated for a claim. */
export function limitChecks({ subject, survives, outbound, inbound }: SuiteContext): void {
  const pieces = subject.capabilities.wholeFramesPerWrite !== true;
  describe("frame limits", () => {
    inbound(
      "closes the receiver with ERR_IPC_FRAME_TOO_LARGE when a frame exceeds its maxFrameSize",
      async ({ local, remote }) => {
        await remote.send([new Uint8Array(100), new Uint8Array(2048)]);
        expect(await local.receive()).toEqual(new Uint8Array(100));
        await expectCode(local.receive(), IpcErrorCode.FRAME_TOO_LARGE);
        expect(await local.closed).toMatchObject({
          initiator: "error",
          error: { code: "ERR_IPC_FRAME_TOO_LARGE" },
        });
      },
      { localCodec: "bytes", remoteCodec: "bytes", localMaxFrameSize: 1024 },
    );

    outbound(
      "refuses to send a message over maxFrameSize, sending nothing, and stays usable",
      async ({ local, remote }) => {
        await expectCode(local.send(new Uint8Array(2048)), IpcErrorCode.FRAME_TOO_LARGE);
        await local.send(new Uint8Array([9]));
        expect((await remote.take(1)).values).toEqual([new Uint8Array([9])]);
      },
      { localCodec: "bytes", remoteCodec: "bytes", localMaxFrameSize: 1024 },
    );

    if (!subject.capabilities.raw) return;

    inbound("rejects an oversize length claim as soon as the header arrives", async ({ local, remote }) => {
      await remote.writeRaw!(header(0x7fff_fff0));
      await expectCode(local.receive({ timeout: 10_000 }), IpcErrorCode.FRAME_TOO_LARGE);
      expect((await local.closed).error?.code).toBe(IpcErrorCode.FRAME_TOO_LARGE);
    });

    inbound("rejects an oversize 8-byte length claim (the -1 form)", async ({ local, remote }) => {
      const claim = Buffer.alloc(12);
      claim.writeInt32BE(-1, 0);
      claim.writeBigUInt64BE(2n ** 40n, 4);
      await remote.writeRaw!(claim);
      await expectCode(local.receive({ timeout: 10_000 }), IpcErrorCode.FRAME_TOO_LARGE);
    });

    inbound(
      "accepts the long header form for a small payload, as Python's reader does",
      async ({ local, remote }) => {
        const frame = Buffer.alloc(12 + 4);
        frame.writeInt32BE(-1, 0);
        frame.writeBigUInt64BE(4n, 4);
        frame.write('"ok"', 12);
        await remote.writeRaw!(frame);
        expect(await local.receive({ timeout: 10_000 })).toBe("ok");
      },
    );

    inbound(
      "closes with ERR_IPC_PROTOCOL on a malformed header, after delivering earlier messages",
      async ({ local, remote }) => {
        await remote.send(["before"]);
        await remote.writeRaw!(header(-5));
        expect(await local.receive()).toBe("before");
        await expectCode(local.receive({ timeout: 10_000 }), IpcErrorCode.PROTOCOL);
        expect((await local.closed).initiator).toBe("error");
      },
    );

    if (!survives) {
      inbound("reports ERR_IPC_PEER_GONE when the stream ends inside a frame", async ({ local, remote }) => {
        await remote.writeRaw!(Buffer.concat([header(100), Buffer.alloc(10)]));
        await remote.close();
        await expectCode(local.receive({ timeout: 10_000 }), IpcErrorCode.PEER_GONE);
        expect((await local.closed).error?.code).toBe(IpcErrorCode.PEER_GONE);
      });
    }

    if (pieces)
      inbound("decodes a frame the peer wrote in many small pieces", async ({ local, remote }) => {
        const frame = Buffer.concat([header(5), Buffer.from('"abc"')]);
        for (const byte of frame) await remote.writeRaw!(Uint8Array.of(byte));
        expect(await local.receive({ timeout: 10_000 })).toBe("abc");
      });
  });
}
