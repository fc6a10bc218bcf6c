// What another process that maps the same memory can do to us, and what it cannot.
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { IpcErrorCode } from "@ipc/core";
import {
  createSegment,
  createSharedMap,
  createShmChannel,
  openSharedMap,
  openShmChannel,
  ShmErrorCode,
} from "@ipc/shm";
import { nodeArgsFor, spawnPeer } from "@ipc-internal/test-utils";
import { describe, expect, it } from "vitest";
import { availableMemoryBytes } from "../src/memory.js";

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const IPC_STDIO = ["ignore", "inherit", "inherit", "ipc"] as const;
let counter = 0;
const freshName = () => `ipc-test-${process.pid}-hostile-${(counter += 1)}`;
const nextMessage = (child: { once(event: "message", listener: (message: unknown) => void): void }) =>
  new Promise<unknown>((resolve) => child.once("message", resolve));

describe("memory another process scribbles over", () => {
  it("a shared map in use while a third process writes random bytes into it: errors with codes, never a crash or a hang", async () => {
    const name = freshName();
    using map = createSharedMap({ name, capacity: 256 });
    map.set("seed", 1);
    const user = spawnPeer(fixture("map-user.ts"), {
      args: [name, "2500"],
      stdio: ["ignore", "pipe", "inherit", "ipc"],
    });
    let output = "";
    user.child.stdout!.setEncoding("utf8").on("data", (text: string) => {
      output += text;
    });
    expect(await nextMessage(user.child)).toBe("opened");
    const scribbler = spawnPeer(fixture("scribbler.ts"), { args: [name, "2000"], stdio: [...IPC_STDIO] });
    expect(await nextMessage(scribbler.child)).toBe("scribbling");
    user.child.send("go");
    expect(await user.exited).toEqual({ code: 0, signal: null });
    await scribbler.exited;
    const outcome = JSON.parse(output) as { ok: number; codes: Record<string, number>; other: string[] };
    expect(outcome.other).toEqual([]);
    const allowed = [
      IpcErrorCode.PROTOCOL,
      IpcErrorCode.DECODE,
      IpcErrorCode.TIMEOUT,
      IpcErrorCode.INVALID_ARGUMENT,
      IpcErrorCode.FRAME_TOO_LARGE,
      ShmErrorCode.LOCK_NOT_HELD,
      ShmErrorCode.MAP_FULL,
    ] as string[];
    expect(Object.keys(outcome.codes).filter((code) => !allowed.includes(code))).toEqual([]);
    expect(outcome.ok).toBeGreaterThan(0);
  }, 20_000);

  it("a ring write position no writer could publish: the receive fails with ERR_IPC_PROTOCOL at once", async () => {
    const name = freshName();
    await using channel = createShmChannel({ name, unlink: "on-close", spin: 0 });
    // Observed at once: the failure may come before the scribbler's "done" does.
    const pending = channel.receive({ timeout: 5000 }).then(
      () => "received",
      (error: unknown) => error,
    );
    const scribbler = spawnPeer(fixture("ring-scribbler.ts"), {
      args: [name, "write-pos"],
      stdio: [...IPC_STDIO],
    });
    expect(await nextMessage(scribbler.child)).toBe("done");
    expect(await pending).toMatchObject({ code: IpcErrorCode.PROTOCOL });
    expect((await channel.closed).error?.code).toBe(IpcErrorCode.PROTOCOL);
    await scribbler.stop();
  });

  it("a ring read position ahead of what was written: sending fails with ERR_IPC_PROTOCOL", async () => {
    const name = freshName();
    await using channel = createShmChannel({ name, unlink: "on-close", capacity: 4096, spin: 0 });
    const scribbler = spawnPeer(fixture("ring-scribbler.ts"), {
      args: [name, "read-pos"],
      stdio: [...IPC_STDIO],
    });
    expect(await nextMessage(scribbler.child)).toBe("done");
    let error: unknown;
    for (let i = 0; i < 100 && error === undefined; i += 1) {
      await channel.send(new Uint8Array(1000).fill(i)).catch((caught: unknown) => {
        error = caught;
      });
    }
    expect(error).toMatchObject({ code: IpcErrorCode.PROTOCOL });
    await scribbler.stop();
  });

  it("headers that claim impossible shapes are refused when opened (capacity 0, 100, 5000, too big)", () => {
    for (const capacity of [0, 100, 5000, 2 ** 30]) {
      const name = freshName();
      using segment = createSegment(4096 + 512, { name });
      const words = new Int32Array(segment.buffer, 0, 3);
      words[2] = capacity;
      words[1] = 1;
      words[0] = 0x6970_6331;
      expect(() => openShmChannel(name)).toThrow(expect.objectContaining({ code: IpcErrorCode.PROTOCOL }));
    }
    for (const fields of [
      [-1, 64, 256],
      [8, -5, 256],
      [8, 64, 2 ** 30],
      [1_000_000, 64, 256],
    ]) {
      const name = freshName();
      using segment = createSegment(8192, { name });
      const words = new Int32Array(segment.buffer, 0, 5);
      words.set([0x6970_636d, 1, ...fields]);
      expect(() => openSharedMap(name)).toThrow(expect.objectContaining({ code: IpcErrorCode.PROTOCOL }));
    }
  });

  it("bad sizes and shapes asked for are ERR_IPC_INVALID_ARGUMENT, never a RangeError", () => {
    for (const make of [
      () => createShmChannel({ capacity: -4096 }),
      () => createShmChannel({ capacity: 100 }),
      () => createSharedMap({ capacity: -1 }),
      () => createSharedMap({ maxKeyBytes: -1 }),
      () => createSharedMap({ maxValueBytes: 0 }),
      () => createSegment(-1),
    ]) {
      expect(make).toThrow(expect.objectContaining({ code: IpcErrorCode.INVALID_ARGUMENT }));
    }
    expect(() => createSegment(64, { name: ".." })).toThrow(
      expect.objectContaining({ code: ShmErrorCode.NAME }),
    );
  });
});

describe("segments another process could shrink or oversize", () => {
  it.runIf(process.platform === "linux")(
    "an anonymous segment handed to a child cannot be truncated under us (sealed)",
    () => {
      const output = execFileSync(process.execPath, nodeArgsFor(fixture("truncate-and-touch.ts")), {
        encoding: "utf8",
      });
      expect(JSON.parse(output)).toEqual({ truncate: "EPERM", touched: 1 << 20 });
    },
  );

  it("refuses, before reserving anything, more memory than the machine has available", () => {
    const available = availableMemoryBytes();
    expect(available).toBeGreaterThan(0);
    const tooMuch = available! + 1024 ** 3;
    const before = readdirSync("/dev/shm").length;
    expect(() => createSegment(tooMuch)).toThrow(expect.objectContaining({ code: ShmErrorCode.NO_SPACE }));
    expect(() => createSegment(tooMuch, { name: freshName() })).toThrow(
      expect.objectContaining({ code: ShmErrorCode.NO_SPACE }),
    );
    expect(readdirSync("/dev/shm").length).toBe(before);
  });
});
