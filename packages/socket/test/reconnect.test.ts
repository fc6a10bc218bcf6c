import { join } from "node:path";
import { IpcErrorCode } from "@ipc/core";
import { type ConnectionState, connectReconnecting, listen, SocketErrorCode } from "@ipc/socket";
import { createTempDir, waitUntil } from "@ipc-internal/test-utils";
import { describe, expect, it } from "vitest";
import { backoff } from "../src/backoff.js";

const sockPath = () => join(createTempDir(), "r.sock");
const FAST = { initialDelay: 10, maxDelay: 50 };

describe("reconnecting client", () => {
  it("survives a server restart: queues while down, delivers in order after, reports its states", async () => {
    const path = sockPath();
    let listener = await listen(path);
    const states: ConnectionState[] = [];
    const client = connectReconnecting(path, {
      reconnect: FAST,
      onConnectionChange: (state) => states.push(state),
    });
    const first = await listener.accept();
    await client.send("before");
    expect(await first.receive()).toBe("before");

    await listener.close({ graceful: false });
    await waitUntil(() => client.connection === "reconnecting", "the client to notice");
    await client.send("while down 1");
    await client.send("while down 2");
    expect(client.queued).toBe(2);

    listener = await listen(path);
    const second = await listener.accept();
    expect(await second.receive()).toBe("while down 1");
    expect(await second.receive()).toBe("while down 2");
    await second.send("welcome back");
    expect(await client.receive({ timeout: 5000 })).toBe("welcome back");
    expect(states).toEqual(["connected", "reconnecting", "connected"]);
    await client.close();
    expect(client.connection).toBe("closed");
    await listener.close();
  });

  it("can start before its server and keeps a pending receive across the reconnection", async () => {
    const path = sockPath();
    const client = connectReconnecting(path, { reconnect: FAST });
    await client.send("queued before the server existed");
    const pending = client.receive({ timeout: 10_000 });
    const listener = await listen(path);
    const server = await listener.accept();
    expect(await server.receive()).toBe("queued before the server existed");
    await server.send("answer");
    expect(await pending).toBe("answer");
    await client.close();
    await listener.close();
  });

  it("fails a send with ERR_IPC_SOCKET_QUEUE_FULL when the queue is full and whenFull is fail", async () => {
    const client = connectReconnecting(sockPath(), {
      reconnect: FAST,
      queue: { maxMessages: 2, whenFull: "fail" },
    });
    await client.send(1);
    await client.send(2);
    await expect(client.send(3)).rejects.toMatchObject({ code: SocketErrorCode.QUEUE_FULL });
    // No server ever comes: close waits its timeout for the queue to go out, then drops it.
    await client.close({ timeout: 50 });
  });

  it("makes a send wait for room when the queue is full, within its timeout", async () => {
    const client = connectReconnecting(sockPath(), { reconnect: FAST, queue: { maxMessages: 1 } });
    await client.send(1);
    await expect(client.send(2, { timeout: 100 })).rejects.toMatchObject({ code: IpcErrorCode.TIMEOUT });
    await client.close({ timeout: 50 });
  });

  it("gives up after maxAttempts with ERR_IPC_SOCKET_GAVE_UP, and every later operation says so", async () => {
    const client = connectReconnecting(sockPath(), { reconnect: { ...FAST, maxAttempts: 3 } });
    expect(await client.closed).toMatchObject({
      initiator: "error",
      error: { code: SocketErrorCode.GAVE_UP },
    });
    // Every later operation says why the client ended.
    await expect(client.send("late")).rejects.toMatchObject({ code: SocketErrorCode.GAVE_UP });
    await expect(client.receive()).rejects.toMatchObject({ code: SocketErrorCode.GAVE_UP });
  });

  it("closes when its abort signal fires, ending iteration", async () => {
    const controller = new AbortController();
    const client = connectReconnecting(sockPath(), { reconnect: FAST, signal: controller.signal });
    const iteration = (async () => {
      const seen: unknown[] = [];
      for await (const message of client) seen.push(message);
      return seen;
    })();
    controller.abort();
    expect(await iteration).toEqual([]);
    expect(await client.closed).toEqual({ initiator: "local" });
  });

  it("backs off exponentially up to the cap, with jitter below each delay", () => {
    const options = { initialDelay: 100, maxDelay: 1000, factor: 2, jitter: 0 };
    expect([1, 2, 3, 4, 5, 6].map((attempt) => backoff(attempt, options))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    for (let i = 0; i < 100; i += 1) {
      const delay = backoff(3, { ...options, jitter: 0.5 });
      expect(delay).toBeGreaterThanOrEqual(200);
      expect(delay).toBeLessThanOrEqual(400);
    }
  });
});
