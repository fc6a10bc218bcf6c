import { existsSync } from "node:fs";
import { bytes, IpcErrorCode } from "@ipc/core";
import { createSegment, createShmChannel, openShmChannel, ShmErrorCode } from "@ipc/shm";
import { waitUntil } from "@ipc-internal/test-utils";
import { describe, expect, it } from "vitest";

let counter = 0;
const freshName = () => `ipc-test-${process.pid}-chan-${(counter += 1)}`;

describe("shared-memory channel", () => {
  it("removes its name from /dev/shm as soon as the peer attaches", async () => {
    const name = freshName();
    await using creator = createShmChannel({ name });
    expect(existsSync(`/dev/shm/${name}`)).toBe(true);
    expect(creator.peerPid).toBe(0);
    await using opener = openShmChannel(name);
    await waitUntil(() => !existsSync(`/dev/shm/${name}`), "the name to be removed");
    expect(creator.peerPid).toBe(process.pid);
    await opener.send("still works");
    expect(await creator.receive()).toBe("still works");
  });

  it("keeps messages sent before the peer attached, in order", async () => {
    const name = freshName();
    await using creator = createShmChannel<number>({ name });
    for (let i = 0; i < 3; i += 1) await creator.send(i);
    await using opener = openShmChannel<number>(name);
    expect([await opener.receive(), await opener.receive(), await opener.receive()]).toEqual([0, 1, 2]);
    await opener.send(3);
    expect(await creator.receive({ timeout: 5000 })).toBe(3);
  });

  it("removes its name at close when no peer ever came", async () => {
    const name = freshName();
    const creator = createShmChannel({ name });
    await creator.close();
    expect(existsSync(`/dev/shm/${name}`)).toBe(false);
  });

  it("refuses a third process, a descriptor without memory, bad options and a missing name", async () => {
    const name = freshName();
    await using creator = createShmChannel({ name, unlink: "on-close" });
    await using opener = openShmChannel(name);
    expect(() => openShmChannel(name)).toThrow(
      expect.objectContaining({ code: ShmErrorCode.CHANNEL_IN_USE }),
    );
    expect(creator.peerPid).toBe(process.pid);
    await opener.close();

    expect(() => openShmChannel({ fd: 1e6 })).toThrow(expect.objectContaining({ code: IpcErrorCode.SYSTEM }));
    for (const capacity of [1000, 4095, 3 * 4096, 2 ** 31]) {
      expect(() => createShmChannel({ capacity })).toThrow(
        expect.objectContaining({ code: IpcErrorCode.INVALID_ARGUMENT }),
      );
    }
    expect(() => createShmChannel({ spin: -1 })).toThrow(
      expect.objectContaining({ code: IpcErrorCode.INVALID_ARGUMENT }),
    );
    const refusedName = freshName();
    expect(() => createShmChannel({ name: refusedName, codec: "bytes" as never })).toThrow(
      expect.objectContaining({ code: IpcErrorCode.INVALID_ARGUMENT }),
    );
    expect(existsSync(`/dev/shm/${refusedName}`)).toBe(false);
    expect(() => openShmChannel(freshName())).toThrow(
      expect.objectContaining({ code: ShmErrorCode.NOT_FOUND }),
    );
  });

  it("refuses to open a segment that is not a channel", () => {
    const name = freshName();
    using plain = createSegment(8192, { name });
    try {
      expect(() => openShmChannel(name)).toThrow(expect.objectContaining({ code: IpcErrorCode.PROTOCOL }));
    } finally {
      plain.unlink();
    }
  });

  it("carries messages larger than its ring, in pieces, in both directions", async () => {
    const name = freshName();
    await using left = createShmChannel<Uint8Array>({ name, capacity: 4096, codec: bytes });
    await using right = openShmChannel<Uint8Array>(name, { codec: bytes });
    const big = new Uint8Array(1024 * 1024 + 3).map((_, i) => i % 251);
    const [received] = await Promise.all([right.receive(), left.send(big)]);
    expect(Buffer.from(received).equals(big)).toBe(true); // toEqual compares 1 MiB element by element: slow
    const [back] = await Promise.all([left.receive(), right.send(big.subarray(5))]);
    expect(Buffer.from(back).equals(big.subarray(5))).toBe(true);
  });

  it("never leaves a sender asleep with room in the ring (random sizes through a small ring, no spinning)", async () => {
    const name = freshName();
    await using left = createShmChannel<Uint8Array>({ name, capacity: 4096, spin: 0, codec: bytes });
    await using right = openShmChannel<Uint8Array>(name, { spin: 0, codec: bytes });
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % 1200;
    const count = 20_000;
    const sizes = Array.from({ length: count }, random);
    const received = (async () => {
      let total = 0;
      for (let i = 0; i < count; i += 1) total += (await right.receive({ timeout: 5000 })).byteLength;
      return total;
    })();
    for (const size of sizes) await left.send(new Uint8Array(size), { timeout: 5000 });
    expect(await received).toBe(sizes.reduce((a, b) => a + b, 0));
  });

  it("works without spinning: every wake-up goes through a futex (sleeping mode)", async () => {
    const name = freshName();
    await using left = createShmChannel<number>({ name, spin: 0 });
    await using right = openShmChannel<number>(name, { spin: 0 });
    let sum = 0;
    const echo = (async () => {
      for await (const n of right) await right.send(n * 2);
    })();
    for (let i = 0; i < 500; i += 1) {
      await left.send(i);
      sum += await left.receive({ timeout: 5000 });
    }
    expect(sum).toBe(2 * ((499 * 500) / 2));
    await left.close();
    await echo;
  });
});
