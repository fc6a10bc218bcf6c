import { spawn } from "node:child_process";
import { once } from "node:events";
import { connect, createServer, type Socket } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bytes, createStreamChannel, IpcErrorCode } from "@ipc/core";
import { authenticateStream, encodeFrameHeader } from "@ipc/core/transport";
import { createTempDir, trackChild, waitUntil } from "@ipc-internal/test-utils";
import { describe, expect, it } from "vitest";
import { connectedSocketPair } from "./fixtures/socket-pair.js";

const PYTHON_AUTH = fileURLToPath(new URL("./fixtures/python_auth.py", import.meta.url));

function python(args: string[]) {
  const child = spawn("python3", [PYTHON_AUTH, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (text: string) => {
    output += text;
  });
  const peer = trackChild(child, 30_000);
  return { peer, output: () => output };
}

async function acceptOne(path: string): Promise<{ accepted: Promise<Socket>; close: () => void }> {
  const server = createServer();
  server.listen(path);
  await once(server, "listening");
  const accepted = once(server, "connection").then(([socket]) => socket as Socket);
  return { accepted, close: () => server.close() };
}

describe("authkey handshake (Python's multiprocessing.connection)", () => {
  it("lets a Python Client with the right authkey talk to us as the server", async () => {
    const path = join(createTempDir(), "auth.sock");
    const server = await acceptOne(path);
    const { peer, output } = python(["connect", path, "s3cret"]);
    const socket = await server.accepted;
    server.close();
    await authenticateStream(socket, { authkey: "s3cret", role: "server" });
    const channel = createStreamChannel(socket, { codec: bytes });
    expect(Buffer.from(await channel.receive()).toString()).toBe("from python");
    await channel.send(Buffer.from("hello python"));
    expect(await peer.exited).toEqual({ code: 0, signal: null });
    expect(output()).toBe("hello python\n");
    await channel.close();
  });

  it("authenticates as a client to a Python Listener with the right authkey", async () => {
    const path = join(createTempDir(), "auth.sock");
    const { peer, output } = python(["listen", path, "s3cret"]);
    await waitUntil(() => output().includes("ready"), "the Python peer to be ready");
    const socket = connect(path);
    await once(socket, "connect");
    await authenticateStream(socket, { authkey: Buffer.from("s3cret"), role: "client" });
    const channel = createStreamChannel(socket, { codec: bytes });
    await channel.send(Buffer.from("abc"));
    expect(Buffer.from(await channel.receive()).toString()).toBe("cba");
    await channel.close();
    expect(await peer.exited).toEqual({ code: 0, signal: null });
  });

  it("fails with ERR_IPC_AUTH on both sides when a Python Client's authkey is wrong", async () => {
    const path = join(createTempDir(), "auth.sock");
    const server = await acceptOne(path);
    const { peer, output } = python(["connect", path, "wrong"]);
    const socket = await server.accepted;
    server.close();
    await expect(authenticateStream(socket, { authkey: "s3cret", role: "server" })).rejects.toMatchObject({
      code: IpcErrorCode.AUTH,
    });
    expect(socket.destroyed).toBe(true);
    expect(await peer.exited).toEqual({ code: 3, signal: null });
    expect(output()).toBe("auth-failed\n");
  });

  it("fails with ERR_IPC_AUTH when a Python Listener's authkey differs from ours", async () => {
    const path = join(createTempDir(), "auth.sock");
    const { peer, output } = python(["listen", path, "theirs"]);
    await waitUntil(() => output().includes("ready"), "the Python peer to be ready");
    const socket = connect(path);
    await once(socket, "connect");
    await expect(authenticateStream(socket, { authkey: "ours", role: "client" })).rejects.toMatchObject({
      code: IpcErrorCode.AUTH,
    });
    expect(await peer.exited).toEqual({ code: 3, signal: null });
  });

  it("authenticates two Node ends with the {sha256} form and keeps bytes sent right after it", async () => {
    const [a, b] = await connectedSocketPair();
    await Promise.all([
      authenticateStream(a, { authkey: "k", role: "server", digest: "sha3_256" }),
      authenticateStream(b, { authkey: "k", role: "client" }).then(() => {
        // Sent the moment the client is through, so it can share a chunk with the last handshake frame.
        b.write(Buffer.concat([encodeFrameHeader(2), Buffer.from("42")]));
      }),
    ]);
    const channel = createStreamChannel(a);
    expect(await channel.receive({ timeout: 5000 })).toBe(42);
    await channel.close();
    b.destroy();
  });

  it("fails with ERR_IPC_AUTH on both Node ends when the keys differ", async () => {
    const [a, b] = await connectedSocketPair();
    const results = await Promise.allSettled([
      authenticateStream(a, { authkey: "one", role: "server" }),
      authenticateStream(b, { authkey: "two", role: "client" }),
    ]);
    expect(results.map((result) => (result as PromiseRejectedResult).reason?.code)).toEqual([
      IpcErrorCode.AUTH,
      IpcErrorCode.AUTH,
    ]);
  });

  it("times out with ERR_IPC_TIMEOUT when the peer never answers, and destroys the stream", async () => {
    const [a, b] = await connectedSocketPair();
    await expect(authenticateStream(a, { authkey: "k", role: "server", timeout: 100 })).rejects.toMatchObject(
      {
        code: IpcErrorCode.TIMEOUT,
      },
    );
    expect(a.destroyed).toBe(true);
    b.destroy();
  });

  it("rejects an oversize handshake message with ERR_IPC_AUTH without waiting for its bytes", async () => {
    const [a, b] = await connectedSocketPair();
    b.write(encodeFrameHeader(1_000_000));
    await expect(
      authenticateStream(a, { authkey: "k", role: "client", timeout: 5000 }),
    ).rejects.toMatchObject({
      code: IpcErrorCode.AUTH,
    });
    b.destroy();
  });

  it("rejects garbage instead of a challenge with ERR_IPC_AUTH", async () => {
    const [a, b] = await connectedSocketPair();
    b.write(Buffer.concat([encodeFrameHeader(30), Buffer.alloc(30, 0x41)]));
    await expect(
      authenticateStream(a, { authkey: "k", role: "client", timeout: 5000 }),
    ).rejects.toMatchObject({
      code: IpcErrorCode.AUTH,
    });
    b.destroy();
  });

  it("reports ERR_IPC_PEER_GONE when the peer hangs up mid-handshake", async () => {
    const [a, b] = await connectedSocketPair();
    const pending = authenticateStream(a, { authkey: "k", role: "client", timeout: 5000 });
    b.end();
    await expect(pending).rejects.toMatchObject({ code: IpcErrorCode.PEER_GONE });
  });
});
