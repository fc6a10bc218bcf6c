import type { Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { bytes, createStreamChannel, IpcErrorCode, WRITE_BATCH_BYTES } from "@ipc/core";
import { remoteEndInProcess, waitForRemoteReady } from "@ipc-internal/conformance";
import { spawnPeer } from "@ipc-internal/test-utils";
import { describe, expect, it } from "vitest";
import { connectedSocketPair } from "./fixtures/socket-pair.js";

const PEER = fileURLToPath(new URL("./fixtures/stream-peer.ts", import.meta.url));

function countWrites(socket: Socket): { count: number } {
  const counter = { count: 0 };
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  socket.write = ((...args: unknown[]) => {
    counter.count += 1;
    return write(...args);
  }) as typeof socket.write;
  return counter;
}

async function startPeer(codec = "json") {
  const peer = spawnPeer(PEER, { args: [codec], stdio: ["ignore", "inherit", "inherit", "ipc", "pipe"] });
  const socket = peer.child.stdio[4] as Socket;
  await waitForRemoteReady(peer.child);
  return { peer, socket, remote: remoteEndInProcess(peer.child, true) };
}

describe("stream channel", () => {
  it("coalesces small messages sent in the same tick into one write", async () => {
    const [near, far] = await connectedSocketPair();
    const writes = countWrites(near);
    const sender = createStreamChannel(near);
    const receiver = createStreamChannel(far);
    await Promise.all(Array.from({ length: 100 }, (_, i) => sender.send({ i })));
    const received = [];
    for (let i = 0; i < 100; i += 1) received.push(await receiver.receive());
    expect(received).toEqual(Array.from({ length: 100 }, (_, i) => ({ i })));
    expect(writes.count).toBe(1);
    await Promise.all([sender.close(), receiver.close()]);
  });

  it("flushes a batch as soon as it is half full, without waiting for the tick to end", async () => {
    const [near, far] = await connectedSocketPair();
    const writes = countWrites(near);
    const sender = createStreamChannel(near, { codec: bytes });
    const receiver = createStreamChannel(far, { codec: bytes });
    const message = new Uint8Array(1024);
    const perBatch = Math.ceil(WRITE_BATCH_BYTES / 2 / (message.length + 4));
    for (let i = 0; i < perBatch; i += 1) await sender.send(message);
    expect(writes.count).toBe(1);
    for (let i = 0; i < perBatch; i += 1) await receiver.receive();
    await Promise.all([sender.close(), receiver.close()]);
  });

  it("fails a pending receive with ERR_IPC_PEER_GONE when the peer process is killed mid-frame", async () => {
    const { peer, socket, remote } = await startPeer();
    const channel = createStreamChannel(socket);
    const header = Buffer.alloc(4);
    header.writeInt32BE(1000, 0);
    await remote.writeRaw!(Buffer.concat([header, Buffer.alloc(100)]));
    const pending = channel.receive();
    const rejected = expect(pending).rejects.toMatchObject({ code: IpcErrorCode.PEER_GONE });
    peer.child.kill("SIGKILL");
    await rejected;
    expect(await channel.closed).toMatchObject({
      initiator: "peer",
      error: { code: IpcErrorCode.PEER_GONE },
    });
    await peer.exited;
  });

  it("ends iteration when the peer process is killed between messages", async () => {
    const { peer, socket, remote } = await startPeer();
    const channel = createStreamChannel(socket);
    await remote.send(["last words"]);
    const seen: unknown[] = [];
    const iterated = (async () => {
      for await (const message of channel) {
        seen.push(message);
        peer.child.kill("SIGKILL");
      }
    })();
    await iterated;
    expect(seen).toEqual(["last words"]);
    await expect(channel.send("anyone?")).rejects.toMatchObject({ code: IpcErrorCode.CLOSED });
    await peer.exited;
  });

  it("rejects send on a receive-only end and receive on a send-only end with ERR_IPC_UNSUPPORTED", async () => {
    const [near, far] = await connectedSocketPair();
    const sender = createStreamChannel(near, { direction: "send" });
    const receiver = createStreamChannel(far, { direction: "receive" });
    await expect(receiver.send("x")).rejects.toMatchObject({ code: IpcErrorCode.UNSUPPORTED });
    await expect(sender.receive()).rejects.toMatchObject({ code: IpcErrorCode.UNSUPPORTED });
    await sender.send("one way");
    expect(await receiver.receive()).toBe("one way");
    await Promise.all([sender.close(), receiver.close()]);
  });
});

describe("stream channel options", () => {
  it("refuses invalid options with ERR_IPC_INVALID_ARGUMENT", async () => {
    const [near, far] = await connectedSocketPair();
    expect(() => createStreamChannel(near, { maxFrameSize: -1 })).toThrow(
      expect.objectContaining({ code: IpcErrorCode.INVALID_ARGUMENT }),
    );
    expect(() => createStreamChannel(near, { receiveHighWaterMark: 0 })).toThrow(
      expect.objectContaining({ code: IpcErrorCode.INVALID_ARGUMENT }),
    );
    expect(() => createStreamChannel(near, { direction: "sideways" as never })).toThrow(
      expect.objectContaining({ code: IpcErrorCode.INVALID_ARGUMENT }),
    );
    near.destroy();
    far.destroy();
  });
});
