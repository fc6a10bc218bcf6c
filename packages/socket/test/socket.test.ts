import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { connect as netConnect, type Socket } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bytes, IpcErrorCode } from "@ipc/core";
import { encodeFrameHeader } from "@ipc/core/transport";
import { connect, listen, MAX_UNIX_PATH_BYTES, parseAddress, SocketErrorCode } from "@ipc/socket";
import { createTempDir, spawnPeer, trackChild, waitUntil } from "@ipc-internal/test-utils";
import { describe, expect, it } from "vitest";

const PYTHON = fileURLToPath(new URL("./fixtures/python_socket.py", import.meta.url));
const SQUATTER = fileURLToPath(new URL("./fixtures/squatter.ts", import.meta.url));
const sockPath = () => join(createTempDir(), "s.sock");

/** A plain socket for playing a hostile client; `closed` settles when the server has cut it off. */
async function rawClient(path: string): Promise<{ socket: Socket; closed: Promise<unknown> }> {
  const socket = netConnect(path);
  const closed = once(socket, "close");
  await once(socket, "connect");
  socket.resume(); // read (and drop) what the server sends, so its hang-up is seen
  socket.on("error", () => {}); // a reset is an expected way to be cut off
  return { socket, closed };
}

describe("addresses", () => {
  it("reads Unix paths, abstract names, TCP (IPv4, IPv6, bare port) and TLS", () => {
    expect(parseAddress("/run/app.sock")).toEqual({ kind: "unix", path: "/run/app.sock" });
    expect(parseAddress("./app.sock")).toEqual({ kind: "unix", path: "./app.sock" });
    expect(parseAddress("unix:app.sock")).toEqual({ kind: "unix", path: "app.sock" });
    expect(parseAddress("@app")).toEqual({ kind: "abstract", name: "app" });
    expect(parseAddress("localhost:9000")).toEqual({ kind: "tcp", host: "localhost", port: 9000 });
    expect(parseAddress("tcp://[::1]:80")).toEqual({ kind: "tcp", host: "::1", port: 80 });
    expect(parseAddress(":0")).toEqual({ kind: "tcp", host: "127.0.0.1", port: 0 });
    expect(parseAddress("tls://example.org:443")).toEqual({ kind: "tls", host: "example.org", port: 443 });
    expect(parseAddress("\\\\.\\pipe\\app")).toEqual({ kind: "windows-pipe", path: "\\\\.\\pipe\\app" });
  });

  it("refuses malformed addresses with ERR_IPC_SOCKET_ADDRESS", () => {
    for (const bad of ["", "host:", "host:99999", "tcp://nohost", "a:b:c"]) {
      expect(() => parseAddress(bad)).toThrow(expect.objectContaining({ code: SocketErrorCode.ADDRESS }));
    }
  });

  it("refuses a Unix path over the platform limit up front with ERR_IPC_SOCKET_PATH_TOO_LONG", async () => {
    const long = `/tmp/${"x".repeat(MAX_UNIX_PATH_BYTES)}.sock`;
    await expect(listen(long)).rejects.toMatchObject({ code: SocketErrorCode.PATH_TOO_LONG, path: long });
    await expect(connect(long)).rejects.toMatchObject({ code: SocketErrorCode.PATH_TOO_LONG });
  });
});

describe("Unix socket files", () => {
  it("creates the socket file with mode 0600 and removes it on close", async () => {
    const path = sockPath();
    const listener = await listen(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await listener.close();
    expect(existsSync(path)).toBe(false);
  });

  it("honours another mode when asked", async () => {
    const path = sockPath();
    const listener = await listen(path, { mode: 0o660 });
    expect(statSync(path).mode & 0o777).toBe(0o660);
    await listener.close();
  });

  it("reclaims a stale socket file left by a server that was killed", async () => {
    const path = sockPath();
    const squatter = spawnPeer(SQUATTER, { args: [path] });
    await once(squatter.child, "message");
    squatter.child.kill("SIGKILL");
    await squatter.exited;
    expect(existsSync(path)).toBe(true);
    const listener = await listen(path);
    const client = await connect(path);
    const server = await listener.accept();
    await client.send("reclaimed");
    expect(await server.receive()).toBe("reclaimed");
    await client.close();
    await listener.close();
  });

  it("never steals the path of a live server: ERR_IPC_SOCKET_IN_USE naming the path", async () => {
    const path = sockPath();
    const first = await listen(path);
    await expect(listen(path)).rejects.toMatchObject({
      code: SocketErrorCode.IN_USE,
      errno: "EADDRINUSE",
      path,
    });
    const client = await connect(path);
    expect(await first.accept()).toBeDefined();
    await client.close();
    await first.close();
  });

  it("refuses to replace a path that is not a socket", async () => {
    const path = sockPath();
    writeFileSync(path, "precious");
    await expect(listen(path)).rejects.toMatchObject({ code: SocketErrorCode.IN_USE, path });
  });

  it.runIf(process.platform === "linux")("listens on a Linux abstract name", async () => {
    const name = `@ipc-test-${process.pid}-${Date.now()}`;
    const listener = await listen(name);
    const client = await connect(name);
    await client.send("abstract");
    expect(await (await listener.accept()).receive()).toBe("abstract");
    await client.close();
    await listener.close();
  });
});

describe("connect errors", () => {
  it("reports ERR_IPC_SOCKET_CONNECT with ENOENT or ECONNREFUSED when nothing listens", async () => {
    await expect(connect(sockPath())).rejects.toMatchObject({
      code: SocketErrorCode.CONNECT,
      errno: "ENOENT",
    });
    const listener = await listen(":0");
    const address = listener.address;
    await listener.close();
    await expect(connect(address)).rejects.toMatchObject({
      code: SocketErrorCode.CONNECT,
      errno: "ECONNREFUSED",
    });
  });

  it("gives up with ERR_IPC_TIMEOUT or ERR_IPC_ABORTED when the connection does not complete", async () => {
    // A TCP listener that never finishes the authkey handshake holds the client in it.
    const server = await listen(":0");
    await expect(connect(server.address, { authkey: "k", timeout: 200 })).rejects.toMatchObject({
      code: IpcErrorCode.TIMEOUT,
    });
    await expect(
      connect(server.address, { authkey: "k", signal: AbortSignal.timeout(100) }),
    ).rejects.toMatchObject({
      code: IpcErrorCode.ABORTED,
    });
    await server.close({ graceful: false });
  });
});

describe("many clients", () => {
  it("runs the tutorial's scenario: 5 clients at once, each gets `server got :[name]`", async () => {
    const listener = await listen(":0");
    void (async () => {
      for await (const channel of listener) {
        void (async () => {
          const name = await channel.receive();
          await channel.send(`server got :[${name}]`);
        })();
      }
    })();
    const replies = await Promise.all(
      ["client-1", "client-2", "client-3", "client-4", "client-5"].map(async (name) => {
        const channel = await connect(listener.address);
        await channel.send(name);
        const reply = await channel.receive();
        await channel.close();
        return reply;
      }),
    );
    expect(replies).toEqual([1, 2, 3, 4, 5].map((n) => `server got :[client-${n}]`));
    await listener.close();
  });

  it("serves 200 concurrent clients × 200 messages with nothing lost and per-client order kept", async () => {
    const listener = await listen(sockPath(), { maxConnections: 500 });
    const received = new Map<number, number[]>();
    const served = (async () => {
      const handlers: Promise<void>[] = [];
      for (let i = 0; i < 200; i += 1) {
        const channel = await listener.accept();
        handlers.push(
          (async () => {
            for await (const message of channel) {
              const { client, seq } = message as { client: number; seq: number };
              const list = received.get(client) ?? [];
              list.push(seq);
              received.set(client, list);
            }
          })(),
        );
      }
      await Promise.all(handlers);
    })();
    await Promise.all(
      Array.from({ length: 200 }, async (_, client) => {
        const channel = await connect(listener.address);
        for (let seq = 0; seq < 200; seq += 1) await channel.send({ client, seq });
        await channel.close();
      }),
    );
    await served;
    expect(received.size).toBe(200);
    const expected = Array.from({ length: 200 }, (_, seq) => seq);
    for (const list of received.values()) expect(list).toEqual(expected);
    await listener.close();
  });

  it("broadcasts one message to every connected client", async () => {
    const listener = await listen(sockPath());
    const clients = await Promise.all(Array.from({ length: 5 }, () => connect(listener.address)));
    for (let i = 0; i < 5; i += 1) await listener.accept();
    expect(await listener.broadcast({ news: "hello all" })).toEqual({ sent: 5, skipped: 0, dropped: 0 });
    for (const client of clients) expect(await client.receive()).toEqual({ news: "hello all" });
    await Promise.all(clients.map((client) => client.close()));
    await listener.close();
  });

  it("refuses connections beyond maxConnections (held by clients that talk) while serving the others", async () => {
    const listener = await listen(sockPath(), { maxConnections: 2 });
    const kept = [await connect(listener.address), await connect(listener.address)];
    for (const client of kept) await client.send("here");
    for (let i = 0; i < 2; i += 1) await (await listener.accept()).receive();
    const extra = await connect(listener.address);
    await expect(extra.receive({ timeout: 5000 })).rejects.toMatchObject({
      code: expect.stringMatching(/^ERR_IPC_(CLOSED|PEER_GONE)$/),
    });
    await kept[0]!.send("still served");
    await Promise.all([...kept, extra].map((channel) => channel.close()));
    await listener.close();
  });
});

describe("hostile clients are cut off while others carry on", () => {
  it("an oversize frame claim, garbage, a stalled handshake and a wrong authkey", async () => {
    const errors: string[] = [];
    const listener = await listen(sockPath(), {
      authkey: "secret",
      handshakeTimeout: 300,
      onConnectionError: (error) => errors.push(error.code),
    });
    const good = await connect(listener.address, { authkey: "secret" });
    const goodServer = await listener.accept();

    const stalled = await rawClient(listener.address); // never answers the challenge
    const garbage = await rawClient(listener.address);
    garbage.socket.write(Buffer.alloc(64, 0xff)); // -1 then a huge 8-byte length: an oversize claim
    const oversize = await rawClient(listener.address);
    oversize.socket.write(encodeFrameHeader(0x7fff_ffff));
    await expect(connect(listener.address, { authkey: "wrong" })).rejects.toMatchObject({
      code: IpcErrorCode.AUTH,
    });

    for (let i = 0; i < 20; i += 1) {
      await good.send(i);
      expect(await goodServer.receive()).toBe(i);
    }
    await Promise.all([stalled.closed, garbage.closed, oversize.closed]);
    expect(errors.sort()).toEqual(["ERR_IPC_AUTH", "ERR_IPC_AUTH", "ERR_IPC_AUTH", "ERR_IPC_TIMEOUT"]);
    expect(listener.connections.size).toBe(1);
    await good.close();
    await listener.close();
  });

  it("without authkey: an oversize claim or garbage closes only that client's channel", async () => {
    const listener = await listen(sockPath(), { maxFrameSize: 1024 });
    const good = await connect(listener.address);
    const goodServer = await listener.accept();
    const hostile = await rawClient(listener.address);
    const hostileServer = await listener.accept();
    hostile.socket.write(encodeFrameHeader(1_000_000));
    await expect(hostileServer.receive()).rejects.toMatchObject({ code: IpcErrorCode.FRAME_TOO_LARGE });
    const garbage = await rawClient(listener.address);
    const garbageServer = await listener.accept();
    garbage.socket.write(Buffer.from([0x80, 0, 0, 0]));
    await expect(garbageServer.receive()).rejects.toMatchObject({ code: IpcErrorCode.PROTOCOL });
    await good.send("fine");
    expect(await goodServer.receive()).toBe("fine");
    await Promise.all([hostile.closed, garbage.closed]);
    await good.close();
    await listener.close();
  });
});

describe("authkey with Python 3.11's multiprocessing.connection", () => {
  function python(args: string[]) {
    const child = spawn("python3", [PYTHON, ...args], { stdio: ["ignore", "pipe", "inherit"] });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => {
      output += text;
    });
    return { peer: trackChild(child, 30_000), output: () => output };
  }

  it("a Python Client with the authkey talks to our listener (Unix and TCP)", async () => {
    for (const address of [sockPath(), ":0"]) {
      const listener = await listen(address, { authkey: "py-secret", codec: bytes });
      const target = listener.address.replace("tcp://", "");
      const { peer, output } = python(["client", target, "py-secret"]);
      const channel = await listener.accept({ timeout: 20_000 });
      expect(Buffer.from(await channel.receive()).toString()).toBe("from python");
      await channel.send(Buffer.from("hi python"));
      expect(await peer.exited).toEqual({ code: 0, signal: null });
      expect(output()).toBe("hi python\n");
      await listener.close();
    }
  });

  it("our connect talks to a Python Listener with the authkey, and a wrong key fails on both sides", async () => {
    const path = sockPath();
    const first = python(["listen", path, "py-secret"]);
    await waitUntil(() => first.output().includes("ready"), "the Python peer to be ready");
    const channel = await connect(path, { authkey: "py-secret", codec: bytes });
    await channel.send(Buffer.from("olleh"));
    expect(Buffer.from(await channel.receive()).toString()).toBe("hello");
    await channel.close();
    expect(await first.peer.exited).toEqual({ code: 0, signal: null });

    const second = python(["listen", path, "py-secret"]);
    await waitUntil(() => second.output().includes("ready"), "the Python peer to be ready");
    await expect(connect(path, { authkey: "not-it" })).rejects.toMatchObject({ code: IpcErrorCode.AUTH });
    expect(await second.peer.exited).toEqual({ code: 3, signal: null });
  });
});

describe("closing", () => {
  it("a graceful close lets open channels finish, and stops accepting at once", async () => {
    const path = sockPath();
    const listener = await listen(path);
    const client = await connect(path);
    const server = await listener.accept();
    const closing = listener.close({ timeout: 5000 });
    await expect(connect(path)).rejects.toMatchObject({ code: SocketErrorCode.CONNECT });
    await client.send("last message");
    expect(await server.receive()).toBe("last message");
    await client.close();
    await closing;
    expect(await server.closed).toEqual({ initiator: "peer" });
  });

  it("a graceful close closes channels still open after its timeout; accept then rejects ERR_IPC_CLOSED", async () => {
    const listener = await listen(sockPath());
    const client = await connect(listener.address);
    await listener.accept();
    await listener.close({ timeout: 100 });
    await expect(client.receive({ timeout: 5000 })).rejects.toMatchObject({ code: IpcErrorCode.CLOSED });
    await expect(listener.accept()).rejects.toMatchObject({ code: IpcErrorCode.CLOSED });
  });

  it("an immediate close closes every channel now", async () => {
    const listener = await listen(sockPath());
    const client = await connect(listener.address);
    const server = await listener.accept();
    await listener.close({ graceful: false });
    expect(await server.closed).toEqual({ initiator: "local" });
    await expect(client.receive({ timeout: 5000 })).rejects.toMatchObject({ code: IpcErrorCode.CLOSED });
  });
});

describe("dead peers", () => {
  it("fails a channel whose peer goes silent past idleTimeout", async () => {
    const listener = await listen(":0", { idleTimeout: 200 });
    const client = await connect(listener.address);
    const server = await listener.accept();
    await expect(server.receive()).rejects.toMatchObject({ code: IpcErrorCode.PEER_GONE });
    await expect(client.receive({ timeout: 5000 })).rejects.toMatchObject({
      code: expect.stringMatching(/^ERR_IPC_(CLOSED|PEER_GONE)$/),
    });
    await listener.close();
  });
});

describe("TLS", () => {
  it("carries messages over tls:// with Node's tls options, authkey on top", async () => {
    const dir = createTempDir();
    const key = join(dir, "key.pem");
    const cert = join(dir, "cert.pem");
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        key,
        "-out",
        cert,
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost",
        "-days",
        "1",
      ],
      { stdio: "ignore" },
    );
    const listener = await listen("tls://localhost:0", {
      tls: { key: readFileSync(key), cert: readFileSync(cert) },
      authkey: "over-tls",
    });
    const client = await connect(listener.address, { tls: { ca: readFileSync(cert) }, authkey: "over-tls" });
    const server = await listener.accept();
    await client.send({ secret: "hello" });
    expect(await server.receive()).toEqual({ secret: "hello" });
    await expect(connect(listener.address, { timeout: 5000 })).rejects.toMatchObject({
      code: SocketErrorCode.CONNECT,
    });
    await client.close();
    await listener.close();
  });
});

describe("abstract socket names with a Python peer (Linux)", () => {
  // Node 20's libuv (1.46) binds and connects abstract names padded with NULs to the whole sun_path;
  // libuv 1.48 and newer use the exact name. Python must use the same form (the README says how).
  const [major, minor] = process.versions.uv!.split(".").map(Number) as [number, number];
  const form = major > 1 || minor >= 48 ? "exact" : "padded";
  const script = fileURLToPath(new URL("./fixtures/python_abstract.py", import.meta.url));

  it.runIf(process.platform === "linux")("our connect reaches a Python Listener on @name", async () => {
    const name = `ipc-test-${process.pid}-abstract-in`;
    const python = trackChild(
      spawn("python3", [script, "listen", name, form], { stdio: ["ignore", "pipe", "inherit"] }),
    );
    await new Promise((resolve) => python.child.stdout!.once("data", resolve));
    await using channel = await connect<string>(`@${name}`);
    await channel.send("hello");
    expect(await channel.receive({ timeout: 5000 })).toBe("HELLO");
    expect(await python.exited).toEqual({ code: 0, signal: null });
  });

  it.runIf(process.platform === "linux")("a Python Client reaches our listener on @name", async () => {
    const name = `ipc-test-${process.pid}-abstract-out`;
    await using listener = await listen<string>(`@${name}`);
    expect(listener.address).toBe(`@${name}`);
    const python = spawn("python3", [script, "connect", name, form], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const peer = trackChild(python);
    let output = "";
    python.stdout!.setEncoding("utf8").on("data", (text: string) => {
      output += text;
    });
    const channel = await listener.accept({ timeout: 10_000 });
    expect(await channel.receive({ timeout: 5000 })).toBe("from python");
    await channel.send("to python");
    expect(await peer.exited).toEqual({ code: 0, signal: null });
    expect(output.trim()).toBe('"to python"');
  });
});
