// What clients (hostile, careless or merely many) can do to a listener, and what they cannot.

import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { connect as netConnect, type Socket } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type IpcError, IpcErrorCode } from "@ipc/core";
import { connect, connectReconnecting, listen, SocketErrorCode } from "@ipc/socket";
import { createTempDir, nodeArgsFor, spawnPeer, waitUntil } from "@ipc-internal/test-utils";
import { describe, expect, it } from "vitest";

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const sockPath = () => join(createTempDir(), "h.sock");
const MIB = 1024 * 1024;

function rawConnections(path: string, count: number): Promise<Socket[]> {
  return Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Socket>((resolve, reject) => {
          const socket = netConnect(path);
          socket.once("connect", () => resolve(socket)).once("error", reject);
        }),
    ),
  );
}

describe("closing in every order", () => {
  for (const order of ["client-first", "listener-first", "together", "listener-only"]) {
    it(`a program that closes ${order} prints done and exits 0 (no await left pending)`, () => {
      for (const address of [sockPath(), "127.0.0.1:0"]) {
        const run = spawnSync(
          process.execPath,
          [...nodeArgsFor(fixture("close-orders.ts")), address, order],
          {
            encoding: "utf8",
            timeout: 20_000,
          },
        );
        expect({ status: run.status, output: run.stdout.trim() }).toEqual({ status: 0, output: "done" });
      }
    });
  }
});

describe("bursts and floods of connections", () => {
  it("1,200 clients connecting at once to a Unix listener all get through (backlog, and EAGAIN retried)", async () => {
    const path = sockPath();
    await using listener = await listen(path, { maxConnections: 2000 });
    const clients = await Promise.all(Array.from({ length: 1200 }, () => connect(path, { timeout: 20_000 })));
    await Promise.all(clients.map((client, i) => client.send(i)));
    const seen = new Set<unknown>();
    for (let i = 0; i < 1200; i += 1)
      seen.add(await (await listener.accept({ timeout: 5000 })).receive({ timeout: 5000 }));
    expect(seen.size).toBe(1200);
    await Promise.all(clients.map((client) => client.close({ timeout: 100 })));
  }, 60_000);

  it("1,024 idle connections do not lock out a client that talks; the evictions are reported", async () => {
    const path = sockPath();
    const reported: string[] = [];
    await using listener = await listen(path, { onConnectionError: (error) => reported.push(error.code) });
    const idle = await rawConnections(path, 1024);
    await waitUntil(() => listener.connections.size === 1024, "the idle connections to be accepted");
    await using client = await connect(path);
    await client.send("let me in");
    // The server takes whatever was accepted and answers the one that speaks.
    const accepted = [];
    for (;;) {
      const channel = await listener.accept({ timeout: 200 }).catch(() => undefined);
      if (channel === undefined) break;
      accepted.push(channel);
    }
    const { channel, message } = await Promise.any(
      accepted.map(async (channel) => ({ channel, message: await channel.receive({ timeout: 5000 }) })),
    );
    expect(message).toBe("let me in");
    await channel.send("welcome");
    expect(await client.receive({ timeout: 5000 })).toBe("welcome");
    expect(reported).toContain(SocketErrorCode.EVICTED);
    for (const socket of idle) socket.destroy();
  }, 30_000);

  it("with an authkey, clients that never finish the handshake cannot hold every slot", async () => {
    const path = sockPath();
    const reported: string[] = [];
    await using listener = await listen(path, {
      authkey: "secret",
      maxConnections: 64,
      onConnectionError: (error) => reported.push(error.code),
    });
    const stalled = await rawConnections(path, 64);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await using client = await connect(path, { authkey: "secret", timeout: 5000 });
    const channel = await listener.accept({ timeout: 5000 });
    await client.send("authenticated");
    expect(await channel.receive({ timeout: 5000 })).toBe("authenticated");
    expect(reported).toContain(SocketErrorCode.EVICTED);
    for (const socket of stalled) socket.destroy();
  });

  it("refuses a newcomer, and says so, when every slot is held by clients that talk", async () => {
    const path = sockPath();
    const reported: string[] = [];
    await using listener = await listen(path, {
      maxConnections: 2,
      onConnectionError: (error) => reported.push(error.code),
    });
    const talkers = await Promise.all([connect(path), connect(path)]);
    for (const talker of talkers) await talker.send("here");
    for (let i = 0; i < 2; i += 1)
      await (await listener.accept({ timeout: 5000 })).receive({ timeout: 5000 });
    const late = await connect(path);
    await expect(late.receive({ timeout: 5000 })).rejects.toMatchObject({
      code: expect.stringMatching(/ERR_IPC_(CLOSED|PEER_GONE)/),
    });
    await waitUntil(() => reported.includes(SocketErrorCode.REFUSED), "the refusal to be reported");
    await Promise.all([...talkers, late].map((client) => client.close({ timeout: 100 })));
  });
});

describe("memory across connections", () => {
  it("bounds what half-sent frames hold across all connections (maxBufferedBytes), closing the ones over it", async () => {
    const path = sockPath();
    await using listener = await listen(path, { maxBufferedBytes: 32 * MIB });
    const before = process.memoryUsage().arrayBuffers;
    const attacker = spawnPeer(fixture("half-frames.ts"), {
      args: [path, "16", "60", "8"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const channels = [];
    for (let i = 0; i < 16; i += 1) channels.push(await listener.accept({ timeout: 10_000 }));
    await new Promise((resolve) => attacker.child.once("message", resolve));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const limited = channels.filter((channel) => channel.state === "closed");
    const codes = await Promise.all(limited.map(async (channel) => (await channel.closed).error?.code));
    // 16 × 8 MiB were sent; 32 MiB is all the listener may hold, so most connections were closed.
    expect(codes.filter((code) => code === IpcErrorCode.LIMIT).length).toBeGreaterThanOrEqual(12);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * MIB);
    await attacker.stop();
  }, 30_000);
});

describe("broadcast", () => {
  it("never hangs on a client that does not read: it is skipped (or dropped) after the timeout", async () => {
    const path = sockPath();
    await using listener = await listen<Uint8Array | string>(path);
    const readers = await Promise.all([connect(path), connect(path)]);
    const stalled = await connect<Uint8Array | string>(path);
    // The stalled client never reads: fill the way to it until its channel must wait.
    const accepted = [];
    for (let i = 0; i < 3; i += 1) accepted.push(await listener.accept({ timeout: 5000 }));
    const toStalled = accepted[2]!;
    while (true) {
      const sent = await toStalled.send(new Uint8Array(256 * 1024), { timeout: 100 }).then(
        () => true,
        () => false,
      );
      if (!sent) break;
    }
    const started = performance.now();
    expect(await listener.broadcast("news", { timeout: 300 })).toEqual({ sent: 2, skipped: 1, dropped: 0 });
    expect(performance.now() - started).toBeLessThan(2000);
    for (const reader of readers) expect(await reader.receive({ timeout: 5000 })).toBe("news");
    expect(await listener.broadcast("more", { timeout: 300, slow: "drop" })).toEqual({
      sent: 2,
      skipped: 0,
      dropped: 1,
    });
    await waitUntil(() => toStalled.state === "closed", "the slow client to be dropped");
    await Promise.all([...readers, stalled].map((client) => client.close({ timeout: 100 })));
  });
});

describe("files another user left", () => {
  it.runIf(process.getuid?.() === 0)(
    "refuses a leftover socket file another user owns, saying so, and leaves it",
    async () => {
      const path = sockPath();
      execFileSync("python3", [
        "-c",
        `import socket; s = socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(path)})`,
      ]);
      execFileSync("chown", ["65534:65534", path]);
      const error = (await listen(path).catch((caught: unknown) => caught)) as IpcError;
      expect(error).toMatchObject({ code: SocketErrorCode.IN_USE });
      expect(error.message).toContain("belongs to user 65534");
      expect(existsSync(path)).toBe(true);
    },
  );
});

describe("a reconnecting client and a server at its limit", () => {
  it("keeps its queued messages, does not hammer the server, and delivers them once a slot frees", async () => {
    const path = sockPath();
    await using listener = await listen<string>(path, { maxConnections: 1 });
    const holder = await connect<string>(path);
    await holder.send("mine");
    const held = await listener.accept({ timeout: 5000 });
    expect(await held.receive({ timeout: 5000 })).toBe("mine");
    let attempts = 0;
    await using client = connectReconnecting<string>(path, {
      reconnect: { initialDelay: 20, maxDelay: 200 },
      onConnectionChange: (state) => {
        if (state === "reconnecting") attempts += 1;
      },
    });
    for (let i = 0; i < 5; i += 1) await client.send(`queued ${i}`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(client.queued).toBe(5);
    // A refused attempt counts, and the backoff grows: nothing like thousands a second.
    expect(attempts).toBeLessThan(30);
    await holder.close();
    const channel = await listener.accept({ timeout: 10_000 });
    const received = [];
    for (let i = 0; i < 5; i += 1) received.push(await channel.receive({ timeout: 5000 }));
    expect(received).toEqual([0, 1, 2, 3, 4].map((i) => `queued ${i}`));
  });
});
