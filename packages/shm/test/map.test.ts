import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { IpcErrorCode, v8 } from "@ipc/core";
import {
  createSegment,
  createSharedMap,
  openSegment,
  openSharedMap,
  SharedLock,
  ShmErrorCode,
  uniqueSegmentName,
  unlinkOrphanedSegments,
} from "@ipc/shm";
import { nodeArgsFor, spawnPeer, trackChild } from "@ipc-internal/test-utils";
import { describe, expect, it } from "vitest";

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
let counter = 0;
const freshName = () => `ipc-test-${process.pid}-map-${(counter += 1)}`;

describe("SharedMap", () => {
  it("is shared by the workers of a Node cluster, counting without losing an update", async () => {
    const name = freshName();
    const primary = spawn(process.execPath, [...nodeArgsFor(fixture("cluster-map.ts")), name, "4", "5000"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const peer = trackChild(primary);
    let output = "";
    primary.stdout.setEncoding("utf8").on("data", (text: string) => {
      output += text;
    });
    expect(await peer.exited).toEqual({ code: 0, signal: null });
    const result = JSON.parse(output);
    expect(result.codes).toEqual([0, 0, 0, 0]);
    expect(result.hits).toBe(20_000);
    expect(result.keys).toEqual(["hits", "log", "worker:1", "worker:2", "worker:3", "worker:4"]);
    expect(result.size).toBe(6);
    expect(existsSync(`/dev/shm/${name}`)).toBe(false);
  });

  it("gets, sets, updates, deletes and counts, reusing deleted entries", () => {
    using map = createSharedMap<unknown>({ capacity: 4 });
    expect(map.get("a")).toBeUndefined();
    map.set("a", { x: 1 }).set("b", [1, 2]);
    expect(map.get("a")).toEqual({ x: 1 });
    expect(map.has("b")).toBe(true);
    expect(map.size).toBe(2);
    expect(map.increment("n")).toBe(1);
    expect(map.increment("n", 2.5)).toBe(3.5);
    expect(map.get("n")).toBe(3.5);
    expect(() => map.increment("a")).toThrow(
      expect.objectContaining({ code: IpcErrorCode.INVALID_ARGUMENT }),
    );
    expect(map.update("b", (old) => [...(old as number[]), 3])).toEqual([1, 2, 3]);
    expect(map.delete("a")).toBe(true);
    expect(map.delete("a")).toBe(false);
    expect(map.size).toBe(2);
    map.set("c", "three").set("d", "four");
    expect(() => map.set("e", 5)).toThrow(expect.objectContaining({ code: ShmErrorCode.MAP_FULL }));
    expect(map.entries().sort()).toEqual([
      ["b", [1, 2, 3]],
      ["c", "three"],
      ["d", "four"],
      ["n", 3.5],
    ]);
  });

  it("refuses keys and values over their limits, bad shapes and descriptors without memory", () => {
    using map = createSharedMap({ maxKeyBytes: 4, maxValueBytes: 8, codec: v8 });
    expect(() => map.set("toolong", 1)).toThrow(
      expect.objectContaining({ code: IpcErrorCode.INVALID_ARGUMENT }),
    );
    expect(() => map.set("k", "a long string value")).toThrow(
      expect.objectContaining({ code: IpcErrorCode.FRAME_TOO_LARGE }),
    );
    expect(() => map.set("é€", 1)).toThrow(expect.objectContaining({ code: IpcErrorCode.INVALID_ARGUMENT }));
    expect(() => createSharedMap({ capacity: 0 })).toThrow(
      expect.objectContaining({ code: IpcErrorCode.INVALID_ARGUMENT }),
    );
    expect(() => openSharedMap({ fd: 1e6 })).toThrow(expect.objectContaining({ code: IpcErrorCode.SYSTEM }));
  });

  it("refuses to open a segment that is not a map", () => {
    const name = freshName();
    using plain = createSegment(4096, { name });
    try {
      expect(() => openSharedMap(name)).toThrow(expect.objectContaining({ code: IpcErrorCode.PROTOCOL }));
    } finally {
      plain.unlink();
    }
  });

  it("keeps working when a process is killed (and not yet reaped) while holding the map's lock", async () => {
    const name = freshName();
    using map = createSharedMap<number>({ name });
    map.set("before", 1);
    const holder = spawnPeer(fixture("primitives-child.ts"), {
      args: ["hold-at", name, "32"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    expect(await new Promise((resolve) => holder.child.once("message", resolve))).toBe("locked");
    // A second mapping of the same memory, to read the lock word (at byte 32 of a map, documented).
    using memory = openSegment(name);
    expect(new SharedLock(memory.buffer, 32).owner).toBe(holder.child.pid);
    holder.child.kill("SIGKILL");
    map.set("after", 2);
    expect(map.entries().sort()).toEqual([
      ["after", 2],
      ["before", 1],
    ]);
    await holder.exited;
  });
});

describe("SharedMap after a crash mid-write (white-box: uses the documented slot layout)", () => {
  it("drops the entry a dead holder was writing, keeps the others, and recounts", async () => {
    const name = freshName();
    using map = createSharedMap<number>({ name, capacity: 8 });
    using memory = openSegment(name);
    map.set("a", 1).set("b", 2);
    // Slots follow a 64-byte header; each is 24 bytes of header + maxKeyBytes + maxValueBytes, 8-aligned.
    const slotBytes = Math.ceil((24 + 64 + 256) / 8) * 8;
    const bytes = new Uint8Array(memory.buffer);
    const words = new Int32Array(memory.buffer);
    let slotOfB = -1;
    for (let slot = 0; slot < 8; slot += 1) {
      const at = 64 + slot * slotBytes;
      if (words[at / 4] === 1 && words[at / 4 + 2] === 1 && bytes[at + 24] === "b".charCodeAt(0))
        slotOfB = at;
    }
    expect(slotOfB).toBeGreaterThan(0);
    words[slotOfB / 4] = 3; // WRITING: what a holder killed inside set("b") leaves
    // ...and the lock still names that holder, a process that is gone.
    const gone = trackChild(spawn(process.execPath, ["-e", ""], { stdio: "ignore" }));
    await gone.exited;
    new BigInt64Array(memory.buffer, 32, 1)[0] = BigInt(gone.child.pid!);
    expect(map.get("b")).toBeUndefined();
    expect(map.get("a")).toBe(1);
    expect(map.size).toBe(1);
    map.set("b", 3);
    expect(map.entries().sort()).toEqual([
      ["a", 1],
      ["b", 3],
    ]);
  });
});

describe("crash hygiene", () => {
  it("removes segments left by a killed process, and only those", async () => {
    const prefix = `ipc-test-${process.pid}-orphan`;
    const mine = uniqueSegmentName(prefix);
    using live = createSegment(64, { name: mine });
    const child = spawnPeer(fixture("orphan-maker.ts"), {
      args: [prefix],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const left = (await new Promise((resolve) => child.child.once("message", resolve))) as string;
    child.child.kill("SIGKILL");
    await child.exited;
    expect(existsSync(`/dev/shm/${left}`)).toBe(true);
    expect(unlinkOrphanedSegments(prefix)).toEqual([left]);
    expect(readdirSync("/dev/shm").filter((name) => name.startsWith(prefix))).toEqual([mine]);
    live.unlink();
  });
});
