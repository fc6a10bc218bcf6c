// trySend and tryReceive: a shared-memory channel used by polling, never waiting.
import { fileURLToPath } from "node:url";
import { bytes, IpcErrorCode } from "@ipc/core";
import { createShmChannel, openShmChannel } from "@ipc/shm";
import { spawnPeer } from "@ipc-internal/test-utils";
import { describe, expect, it } from "vitest";
import type { ShmChannelEnd } from "../src/shm-channel.js";

const POLL_ECHO = fileURLToPath(new URL("./fixtures/poll-echo.ts", import.meta.url));
let counter = 0;
const freshName = () => `ipc-test-${process.pid}-poll-${(counter += 1)}`;

/** Polls `tryReceive` until a message is there, letting the event loop run every 10,000 empty polls. */
async function pollReceive<T>(channel: { tryReceive(): T | undefined }): Promise<T> {
  for (let polls = 1; ; polls += 1) {
    const message = channel.tryReceive();
    if (message !== undefined) return message;
    if (polls % 10_000 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
}

describe("a shared-memory channel polled with trySend and tryReceive", () => {
  it("runs round trips with another process that only polls", async () => {
    const name = freshName();
    await using channel = createShmChannel<unknown>({ name });
    const peer = spawnPeer(POLL_ECHO, { args: [name, "2000"], stdio: ["ignore", "inherit", "inherit"] });
    try {
      for (let i = 0; i < 2000; i += 1) {
        const message = i % 3 === 0 ? { i, text: "x".repeat(i % 200) } : i;
        while (!channel.trySend(message));
        expect(await pollReceive(channel)).toEqual(message);
      }
      expect(await channel.receive({ timeout: 10_000 })).toBe("done");
      expect(await peer.exited).toEqual({ code: 0, signal: null });
    } finally {
      await peer.stop();
    }
  });

  it("tryReceive gives undefined when nothing is there, and takes messages in order with receive", async () => {
    const name = freshName();
    await using creator = createShmChannel<number>({ name });
    await using opener = openShmChannel<number>(name);
    expect(opener.tryReceive()).toBeUndefined();
    for (let i = 0; i < 4; i += 1) expect(creator.trySend(i)).toBe(true);
    expect(await opener.receive({ timeout: 5000 })).toBe(0);
    expect(opener.tryReceive()).toBe(1);
    expect(await opener.receive({ timeout: 5000 })).toBe(2);
    expect(opener.tryReceive()).toBe(3);
    expect(opener.tryReceive()).toBeUndefined();
    // A receive already waiting is served first: tryReceive never takes a message from under it.
    const waiting = opener.receive({ timeout: 5000 });
    creator.trySend(4);
    expect(opener.tryReceive()).toBeUndefined();
    expect(await waiting).toBe(4);
  });

  it("trySend refuses, sending nothing, while the frame does not fit or a send waits", async () => {
    const name = freshName();
    await using creator = createShmChannel<Uint8Array>({ name, codec: bytes, capacity: 4096 });
    await using opener = openShmChannel<Uint8Array>(name, { codec: bytes });
    const message = (i: number) => new Uint8Array(500).fill(i);
    let sent = 0;
    while (creator.trySend(message(sent))) sent += 1;
    // 4 KiB of ring, each frame 504 bytes: 8 fit.
    expect(sent).toBe(8);
    // A send that has to wait goes first: trySend refuses while it waits, even once there is room.
    const queued = creator.send(message(100));
    expect(creator.trySend(message(101))).toBe(false);
    const received: number[] = [];
    for (let i = 0; i < sent; i += 1) received.push(opener.tryReceive()![0]!); // room again, at once
    expect(creator.trySend(message(102))).toBe(false);
    await queued;
    expect(creator.trySend(message(103))).toBe(true);
    received.push(
      (await opener.receive({ timeout: 5000 }))[0]!,
      (await opener.receive({ timeout: 5000 }))[0]!,
    );
    expect(received).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 100, 103]);
  });

  it("trySend takes only frames that fit whole now, and looking for room costs nothing", async () => {
    const name = freshName();
    await using creator = createShmChannel<Uint8Array>({ name, codec: bytes, capacity: 4096 });
    await using opener = openShmChannel<Uint8Array>(name, { codec: bytes });
    expect(creator.trySend(new Uint8Array(3000))).toBe(true);
    // 1,092 bytes are free: a 1,500-byte message waits (nothing of it is queued in this process).
    expect(creator.trySend(new Uint8Array(1500).fill(2))).toBe(false);
    expect(() => creator.trySend(new Uint8Array(5000))).toThrow(
      expect.objectContaining({ code: IpcErrorCode.FRAME_TOO_LARGE }),
    );
    // Refusals schedule nothing: 200,000 of them in a row leave the heap where it was.
    const before = process.memoryUsage().heapUsed;
    const small = new Uint8Array(1500);
    for (let i = 0; i < 200_000; i += 1) creator.trySend(small);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(8 * 1024 * 1024);
    expect((await opener.receive({ timeout: 5000 })).byteLength).toBe(3000);
    expect(creator.trySend(new Uint8Array(1500).fill(2))).toBe(true);
    expect((await opener.receive({ timeout: 5000 }))[0]).toBe(2);
  });

  it("a peer that closed cleanly while this loop kept the event loop busy is a clean end", async () => {
    const name = freshName();
    await using channel = createShmChannel<unknown>({ name });
    const peer = spawnPeer(POLL_ECHO, { args: [name, "0"], stdio: ["ignore", "inherit", "inherit"] });
    try {
      // Never yielding: the peer says "done", closes and exits while this event loop is blocked.
      let message: unknown;
      const deadline = performance.now() + 10_000;
      while ((message = channel.tryReceive()) === undefined && performance.now() < deadline);
      expect(message).toBe("done");
      for (const until = performance.now() + 1000; performance.now() < until; ) channel.tryReceive();
      await expect(pollReceive(channel)).rejects.toMatchObject({ code: IpcErrorCode.CLOSED });
      expect(await peer.exited).toEqual({ code: 0, signal: null });
    } finally {
      await peer.stop();
    }
  });

  it("throws what send and receive would: encoding, size, a closed channel, the peer's end", async () => {
    const name = freshName();
    const creator = createShmChannel<unknown>({ name, maxFrameSize: 1024 });
    const opener = openShmChannel<unknown>(name);
    expect(() => creator.trySend(undefined)).toThrow(expect.objectContaining({ code: IpcErrorCode.ENCODE }));
    expect(() => creator.trySend("x".repeat(2000))).toThrow(
      expect.objectContaining({ code: IpcErrorCode.FRAME_TOO_LARGE }),
    );
    creator.trySend("last");
    await creator.close();
    expect(() => creator.trySend("after")).toThrow(expect.objectContaining({ code: IpcErrorCode.CLOSED }));
    expect(() => creator.tryReceive()).toThrow(expect.objectContaining({ code: IpcErrorCode.CLOSED }));
    expect(await pollReceive(opener)).toBe("last");
    // Delivered in full first, then the end.
    await expect(pollReceive(opener)).rejects.toMatchObject({ code: IpcErrorCode.CLOSED });
    await opener.close();
  });

  it("throws ERR_IPC_PROTOCOL for a malformed frame in the ring", async () => {
    const name = freshName();
    await using creator = createShmChannel<unknown>({ name });
    await using opener = openShmChannel<unknown>(name);
    (opener as unknown as ShmChannelEnd<unknown>).writeRaw(new Uint8Array([0xff, 0xff, 0xff, 0xf0, 1, 2, 3]));
    expect(() => creator.tryReceive()).toThrow(expect.objectContaining({ code: IpcErrorCode.PROTOCOL }));
  });

  it("a polling loop that lets the event loop run learns that the peer was killed", async () => {
    const name = freshName();
    await using channel = createShmChannel<unknown>({ name });
    const peer = spawnPeer(POLL_ECHO, { args: [name, "1000000"], stdio: ["ignore", "inherit", "inherit"] });
    try {
      while (!channel.trySend("ping"));
      expect(await pollReceive(channel)).toBe("ping");
      peer.child.kill("SIGKILL");
      await expect(pollReceive(channel)).rejects.toMatchObject({ code: IpcErrorCode.PEER_GONE });
    } finally {
      await peer.stop();
    }
  });
});
