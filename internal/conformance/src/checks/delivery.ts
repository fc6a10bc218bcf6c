import { describe, expect } from "vitest";
import { equalBytes, MIB, patterned, type SuiteContext } from "../context.js";

/** Messages arrive whole, in order, exactly once, both ways, whatever their size. */
export function deliveryChecks({ outbound, inbound, duplex, maxMessageBytes }: SuiteContext): void {
  describe("delivery", () => {
    outbound("delivers a message from the local end to the remote end", async ({ local, remote }) => {
      await local.send({ hello: "remote" });
      expect(await remote.take(1)).toEqual({ values: [{ hello: "remote" }] });
    });

    inbound("delivers a message from the remote end to the local end", async ({ local, remote }) => {
      await remote.send([{ hello: "local" }]);
      expect(await local.receive()).toEqual({ hello: "local" });
    });

    outbound("keeps the order of 5000 messages sent by the local end", async ({ local, remote }) => {
      const taken = remote.take(5000);
      for (let i = 0; i < 5000; i += 1) await local.send(i);
      expect((await taken).values).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    });

    inbound("keeps the order of 5000 messages sent by the remote end", async ({ local, remote }) => {
      const expected = Array.from({ length: 5000 }, (_, i) => ({ i }));
      const sent = remote.send(expected);
      const received: unknown[] = [];
      for (let i = 0; i < 5000; i += 1) received.push(await local.receive());
      await sent;
      expect(received).toEqual(expected);
    });

    outbound("keeps call order for sends that were not awaited one by one", async ({ local, remote }) => {
      const taken = remote.take(1000);
      await Promise.all(Array.from({ length: 1000 }, (_, i) => local.send(i)));
      expect((await taken).values).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    });

    outbound(
      "delivers 0-byte messages from the local end",
      async ({ local, remote }) => {
        await local.send(new Uint8Array(0));
        await local.send(new Uint8Array([1]));
        expect((await remote.take(2)).values).toEqual([new Uint8Array(0), new Uint8Array([1])]);
      },
      { localCodec: "bytes", remoteCodec: "bytes" },
    );

    inbound(
      "delivers 0-byte messages from the remote end",
      async ({ local, remote }) => {
        await remote.send([new Uint8Array(0), new Uint8Array([2])]);
        expect(await local.receive()).toEqual(new Uint8Array(0));
        expect(await local.receive()).toEqual(new Uint8Array([2]));
      },
      { localCodec: "bytes", remoteCodec: "bytes" },
    );

    if (maxMessageBytes >= 8 * MIB)
      outbound(
        "delivers an 8 MiB message from the local end intact",
        async ({ local, remote }) => {
          const big = patterned(8 * MIB);
          const taken = remote.take(1);
          await local.send(big);
          expect(equalBytes((await taken).values[0], big)).toBe(true);
        },
        { localCodec: "bytes", remoteCodec: "bytes" },
      );

    if (maxMessageBytes >= 8 * MIB)
      inbound(
        "delivers an 8 MiB message from the remote end intact",
        async ({ local, remote }) => {
          const big = patterned(8 * MIB);
          const sent = remote.send([big]);
          expect(equalBytes(await local.receive(), big)).toBe(true);
          await sent;
        },
        { localCodec: "bytes", remoteCodec: "bytes" },
      );

    inbound(
      "delivers every byte value unchanged",
      async ({ local, remote }) => {
        const all = Uint8Array.from({ length: 256 * 4 }, (_, i) => i % 256);
        await remote.send([all]);
        expect(await local.receive()).toEqual(all);
      },
      { localCodec: "bytes", remoteCodec: "bytes" },
    );

    outbound(
      "lets the sender reuse its bytes once send resolves",
      async ({ local, remote }) => {
        const reused = new Uint8Array(32 * 1024).fill(1);
        await local.send(reused);
        reused.fill(2);
        await local.send(reused.subarray(0, 10));
        const { values } = await remote.take(2);
        expect((values[0] as Uint8Array).every((byte) => byte === 1)).toBe(true);
        expect(values[1]).toEqual(new Uint8Array(10).fill(2));
      },
      { localCodec: "bytes", remoteCodec: "bytes" },
    );

    outbound(
      "resolves flush once everything sent before has left, and the remote then receives it all",
      async ({ local, remote }) => {
        const sends = Array.from({ length: 300 }, (_, i) => local.send({ i }));
        await local.flush({ timeout: 10_000 });
        await Promise.all(sends);
        expect((await remote.take(300)).values).toEqual(Array.from({ length: 300 }, (_, i) => ({ i })));
        await local.flush();
      },
    );
    duplex("round-trips messages through the remote end (echo)", async ({ local, remote }) => {
      const echoed = remote.echo(100);
      for (let i = 0; i < 100; i += 1) {
        await local.send({ i });
        expect(await local.receive()).toEqual({ i });
      }
      await echoed;
    });
  });
}
