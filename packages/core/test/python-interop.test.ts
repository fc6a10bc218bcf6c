import { spawn } from "node:child_process";
import type { Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { bytes, type Channel, createStreamChannel, IpcErrorCode, json } from "@ipc/core";
import { trackChild } from "@ipc-internal/test-utils";
import { describe, expect, it } from "vitest";

const PYTHON_PEER = fileURLToPath(new URL("./fixtures/python_peer.py", import.meta.url));
const MIB = 1024 * 1024;

/** A Python 3 process running python_peer.py, with one end of a socketpair as its fd 3. */
function startPythonPeer(mode?: "json"): {
  channel: Channel<Uint8Array>;
  socket: Socket;
  exited: Promise<unknown>;
} {
  const child = spawn("python3", [PYTHON_PEER, ...(mode ? [mode] : [])], {
    stdio: ["ignore", "inherit", "inherit", "pipe"],
  });
  const peer = trackChild(child, 60_000);
  const socket = child.stdio[3] as Socket;
  return { channel: createStreamChannel(socket, { codec: bytes }), socket, exited: peer.exited };
}

const pattern = (size: number) => Uint8Array.from({ length: size }, (_, i) => i % 251);

describe("interop with Python's multiprocessing.connection", () => {
  it("exchanges send_bytes/recv_bytes messages both ways, including 0-byte and multi-MiB ones", async () => {
    const { channel, exited } = startPythonPeer();
    await channel.send(Buffer.from("rev:abc"));
    expect(Buffer.from(await channel.receive()).toString()).toBe("cba");

    await channel.send(Buffer.from("rev:"));
    expect(await channel.receive()).toEqual(new Uint8Array(0));

    const big = pattern(3 * MIB + 17);
    await channel.send(Buffer.concat([Buffer.from("rev:"), big]));
    expect(Buffer.compare(await channel.receive(), big.slice().reverse())).toBe(0);

    await channel.send(Buffer.from(`size:${2 * MIB}`));
    expect(Buffer.compare(await channel.receive(), pattern(2 * MIB))).toBe(0);

    await channel.send(Buffer.from("size:0"));
    expect(await channel.receive()).toEqual(new Uint8Array(0));

    await channel.send(Buffer.from("bye"));
    await expect(channel.receive()).rejects.toMatchObject({ code: IpcErrorCode.CLOSED });
    expect(await channel.closed).toEqual({ initiator: "peer" });
    expect(await exited).toEqual({ code: 0, signal: null });
  });

  it("lets Python json.loads what the json codec sends, and reads its json.dumps reply", async () => {
    const { socket, exited } = startPythonPeer("json");
    const channel = createStreamChannel(socket, { codec: json });
    const message = { text: "héllo ✓", list: [1, 2.5, null, true], nested: { deep: [] } };
    await channel.send(message);
    expect(await channel.receive()).toEqual({ ...message, from: "python" });
    await channel.close();
    expect(await exited).toEqual({ code: 0, signal: null });
  });
});
