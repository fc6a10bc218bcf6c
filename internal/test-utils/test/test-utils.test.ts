import { once } from "node:events";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  childProcessIds,
  createTempDir,
  leftoverTempDirs,
  newDescriptors,
  openChannelDescriptors,
  removeTempDirs,
  spawnPeer,
} from "../src/index.js";

const STUBBORN = fileURLToPath(new URL("./fixtures/stubborn.ts", import.meta.url));

describe("test utilities", () => {
  it("escalates from SIGTERM to SIGKILL when a peer ignores SIGTERM", async () => {
    const peer = spawnPeer(STUBBORN);
    await once(peer.child, "message");
    expect(childProcessIds()).toContain(peer.child.pid);
    expect(await peer.stop(200)).toEqual({ code: null, signal: "SIGKILL" });
    expect(childProcessIds()).not.toContain(peer.child.pid);
  });

  it("stops a peer that outlives its hard timeout", async () => {
    const peer = spawnPeer(STUBBORN, { timeoutMs: 300 });
    const exit = await peer.exited;
    expect(exit.signal).not.toBeNull();
  });

  it("sees a socket that is still open, and stops seeing it once closed", async () => {
    const before = openChannelDescriptors();
    const server = createServer().listen(join(createTempDir(), "leak.sock"));
    await once(server, "listening");
    expect((await newDescriptors(before, 0)).length).toBeGreaterThan(0);
    server.close();
    expect(await newDescriptors(before)).toEqual([]);
  });

  it("creates private temp dirs and removes them all", () => {
    const dir = createTempDir();
    expect(existsSync(dir)).toBe(true);
    expect(leftoverTempDirs()).toContain(dir);
    removeTempDirs();
    expect(existsSync(dir)).toBe(false);
    expect(leftoverTempDirs()).toEqual([]);
  });
});
