import { spawn } from "node:child_process";
import { existsSync, readdirSync, statfsSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { IpcErrorCode } from "@ipc/core";
import { createSegment, openSegment, ShmErrorCode, unlinkSegment } from "@ipc/shm";
import { spawnPeer, TYPESCRIPT_NODE_ARGS, trackChild, waitUntil } from "@ipc-internal/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import { segmentName } from "../src/segment.js";

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const PREFIX = `ipc-test-${process.pid}-`;
let counter = 0;
const freshName = () => `${PREFIX}${(counter += 1)}`;

afterEach(() => {
  // Nothing may be left in /dev/shm by these tests.
  const left = readdirSync("/dev/shm").filter((name) => name.startsWith(PREFIX));
  for (const name of left) unlinkSegment(name);
  expect(left).toEqual([]);
});

describe("segments", () => {
  it("creates a segment exclusively, mode 0600, sized up front, and removes it on unlink", () => {
    const name = freshName();
    using segment = createSegment(4096, { name });
    expect(segment).toMatchObject({ name: `/${name}`, size: 4096, created: true });
    const stat = statSync(`/dev/shm/${name}`);
    expect(stat.mode & 0o777).toBe(0o600);
    expect(stat.blocks * 512).toBeGreaterThanOrEqual(4096); // reserved, not sparse
    expect(() => createSegment(4096, { name })).toThrow(
      expect.objectContaining({ code: ShmErrorCode.EXISTS }),
    );
    segment.unlink();
    expect(existsSync(`/dev/shm/${name}`)).toBe(false);
  });

  it("shares memory with another mapping of the same name, which keeps working after unlink", () => {
    const name = freshName();
    using first = createSegment(64, { name, mode: 0o640 });
    using second = openSegment(name);
    expect(statSync(`/dev/shm/${name}`).mode & 0o777).toBe(0o640);
    new Uint8Array(first.buffer).set([1, 2, 3]);
    expect([...new Uint8Array(second.buffer, 0, 3)]).toEqual([1, 2, 3]);
    first.unlink();
    new Uint8Array(second.buffer)[3] = 4;
    expect(new Uint8Array(first.buffer)[3]).toBe(4);
    expect(() => openSegment(name)).toThrow(expect.objectContaining({ code: ShmErrorCode.NOT_FOUND }));
  });

  it("detaches the buffer on close, so the memory cannot be touched afterwards", () => {
    const segment = createSegment(64, { name: freshName() });
    const view = new Uint8Array(segment.buffer);
    segment.close();
    segment.close();
    expect(segment.buffer.byteLength).toBe(0);
    expect(view.length).toBe(0);
  });

  it("removes its name when its creator closes it, unless unlink is never; an opener's close removes nothing", () => {
    const owned = freshName();
    const segment = createSegment(64, { name: owned });
    openSegment(owned).close();
    expect(existsSync(`/dev/shm/${owned}`)).toBe(true);
    segment.close();
    expect(existsSync(`/dev/shm/${owned}`)).toBe(false);

    const kept = freshName();
    createSegment(64, { name: kept, unlink: "never" }).close();
    expect(existsSync(`/dev/shm/${kept}`)).toBe(true);
    unlinkSegment(kept);
    expect(() => createSegment(64, { unlink: "sometimes" as never })).toThrow(
      expect.objectContaining({ code: IpcErrorCode.INVALID_ARGUMENT }),
    );
  });

  it("validates names and sizes with their own codes", () => {
    expect(segmentName("app")).toBe("/app");
    expect(segmentName("/app")).toBe("/app");
    for (const bad of ["", "/", "a/b", ".", "..", "x".repeat(256)]) {
      expect(() => segmentName(bad)).toThrow(expect.objectContaining({ code: ShmErrorCode.NAME }));
    }
    for (const size of [0, -1, 1.5]) {
      expect(() => createSegment(size, { name: freshName() })).toThrow(
        expect.objectContaining({ code: IpcErrorCode.INVALID_ARGUMENT }),
      );
    }
    expect(() => unlinkSegment(freshName())).toThrow(
      expect.objectContaining({ code: ShmErrorCode.NOT_FOUND }),
    );
  });

  it("fails with ERR_IPC_SHM_NO_SPACE, not SIGBUS, when /dev/shm cannot hold the size", () => {
    const name = freshName();
    // 64 MiB more than /dev/shm has free: posix_fallocate refuses at creation (ENOSPC).
    const { bavail, bsize } = statfsSync("/dev/shm");
    const tooBig = bavail * bsize + 64 * 1024 * 1024;
    expect(() => createSegment(tooBig, { name })).toThrow(
      expect.objectContaining({ code: ShmErrorCode.NO_SPACE }),
    );
    expect(existsSync(`/dev/shm/${name}`)).toBe(false);
  });
});

describe("a full tmpfs", () => {
  // A 1 MiB tmpfs mounted on /dev/shm in a private mount namespace: needs root and unshare(1).
  const canMount = process.platform === "linux" && process.getuid?.() === 0 && existsSync("/usr/bin/unshare");
  it.runIf(canMount)("refuses what does not fit with ERR_IPC_SHM_NO_SPACE, never SIGBUS", async () => {
    const node = [process.execPath, ...TYPESCRIPT_NODE_ARGS, fixture("tiny-tmpfs.ts")].map(
      (arg) => `'${arg}'`,
    );
    const script = `mount -t tmpfs -o size=1m tmpfs /dev/shm && exec ${node.join(" ")}`;
    const child = spawn("unshare", ["--mount", "--propagation", "private", "sh", "-c", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const peer = trackChild(child);
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => {
      output += text;
    });
    expect(await peer.exited).toEqual({ code: 0, signal: null });
    expect(JSON.parse(output)).toEqual({
      first: "ok",
      second: ShmErrorCode.NO_SPACE,
      channel: ShmErrorCode.NO_SPACE,
      "after-release": "ok",
    });
  });
});

describe("across processes", () => {
  it("four processes add to one counter a million times each with Atomics and lose no update", async () => {
    const name = freshName();
    using segment = createSegment(64, { name });
    const peers = [0, 1, 2, 3].map(() =>
      spawnPeer(fixture("incrementer.ts"), {
        args: [name, "1000000"],
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      }),
    );
    await Promise.all(peers.map((peer) => new Promise((resolve) => peer.child.once("message", resolve))));
    for (const peer of peers) peer.child.send("go");
    const exits = await Promise.all(peers.map((peer) => peer.exited));
    expect(exits.every((exit) => exit.code === 0)).toBe(true);
    expect(Atomics.load(new Int32Array(segment.buffer, 0, 1), 0)).toBe(4_000_000);
  });

  it("opens a segment Python created, and Python opens ours (standard library only)", async () => {
    const pythonName = freshName();
    const python = spawn("python3", [fixture("python_shm.py"), "create", pythonName, "4096"], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    const peer = trackChild(python);
    let output = "";
    python.stdout.setEncoding("utf8").on("data", (text: string) => {
      output += text;
    });
    await waitUntil(() => output.includes("ready"), "the Python process to create its segment");
    {
      using theirs = openSegment(pythonName);
      expect(Buffer.from(theirs.buffer, 0, 11).toString()).toBe("from python");
      Buffer.from(theirs.buffer).write("from node", 100);
    }
    python.stdin.write("\n");
    expect(await peer.exited).toEqual({ code: 0, signal: null });
    expect(output).toBe("ready\nfrom node\n");

    const ourName = freshName();
    using ours = createSegment(4096, { name: ourName });
    Buffer.from(ours.buffer).write("node here", 0);
    const reader = spawn("python3", [fixture("python_shm.py"), "open", ourName], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const readerPeer = trackChild(reader);
    let read = "";
    reader.stdout.setEncoding("utf8").on("data", (text: string) => {
      read += text;
    });
    expect(await readerPeer.exited).toEqual({ code: 0, signal: null });
    expect(read).toBe("node here\n");
    expect(Buffer.from(ours.buffer, 16, 15).toString()).toBe("python was here");
  });
});
