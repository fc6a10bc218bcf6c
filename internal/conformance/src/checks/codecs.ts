import { IpcErrorCode } from "@ipc/core";
import { describe, expect } from "vitest";
import { type CodecName, codecByName } from "../codecs.js";
import { expectCode, type SuiteContext } from "../context.js";

const SAMPLES: Record<CodecName, unknown[]> = {
  json: [
    null,
    true,
    0,
    -1.5,
    "",
    "héllo wörld ✓ 🚀",
    [1, [2, [3]]],
    { nested: { list: [1, "two", null] }, n: 1e300 },
  ],
  v8: [
    new Map<unknown, unknown>([
      ["a", 1],
      [2, new Set([3])],
    ]),
    new Date(1_700_000_000_000),
    2n ** 100n,
    new Uint8Array([0, 1, 254, 255]),
    { undefinedValue: undefined, regexp: /ab+c/gi, nan: Number.NaN },
  ],
  bytes: [new Uint8Array(0), new Uint8Array([0, 10, 13, 255]), new Uint8Array(100_000).fill(7)],
  msgpack: [null, 42, "text", { list: [1, 2, 3], bin: Buffer.from([1, 2, 3]) }, [true, false, -7.25]],
};

/** Every codec round-trips its values; encoding and decoding failures cost one message, not the channel. */
export function codecChecks({ outbound, inbound, maxMessageBytes }: SuiteContext): void {
  describe("codecs", () => {
    for (const codec of Object.keys(SAMPLES) as CodecName[]) {
      // Each sample alone is a message; a subject with a size limit gets those that fit.
      const samples = SAMPLES[codec].filter(
        (sample) => codecByName(codec).encode(sample).byteLength <= maxMessageBytes,
      );
      outbound(
        `round-trips ${codec} values sent by the local end`,
        async ({ local, remote }) => {
          for (const sample of samples) await local.send(sample);
          expect((await remote.take(samples.length)).values).toEqual(samples);
        },
        { localCodec: codec, remoteCodec: codec },
      );
      inbound(
        `round-trips ${codec} values sent by the remote end`,
        async ({ local, remote }) => {
          await remote.send(samples);
          for (const sample of samples) expect(await local.receive()).toEqual(sample);
        },
        { localCodec: codec, remoteCodec: codec },
      );
    }

    outbound(
      "rejects a message the codec cannot encode with ERR_IPC_ENCODE and stays usable",
      async ({ local, remote }) => {
        await expectCode(local.send(undefined), IpcErrorCode.ENCODE);
        await expectCode(
          local.send(() => 1),
          IpcErrorCode.ENCODE,
        );
        await local.send("after");
        expect((await remote.take(1)).values).toEqual(["after"]);
      },
    );

    inbound(
      "rejects an undecodable message with ERR_IPC_DECODE and stays usable",
      async ({ local, remote }) => {
        await remote.send([new Uint8Array([0xff, 0xfe, 0x00]), Buffer.from('{"ok":true}')]);
        await expectCode(local.receive(), IpcErrorCode.DECODE);
        expect(await local.receive()).toEqual({ ok: true });
      },
      { localCodec: "json", remoteCodec: "bytes" },
    );
  });
}
