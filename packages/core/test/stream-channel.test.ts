import type { Socket } from "node:net";
import { bytes, createStreamChannel, IpcErrorCode } from "@ipc/core";
import { WRITE_BATCH_BYTES } from "@ipc/core/transport";
import { describe, expect, it } from "vitest";
import { connectedSocketPair } from "./fixtures/socket-pair.js";

function countWrites(socket: Socket): { count: number } {
  const counter = { count: 0 };
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  socket.write = ((...args: unknown[]) => {
    counter.count += 1;
    return write(...args);
  }) as typeof socket.write;
  return counter;
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
    // A codec's name instead of the codec: refused at once, not at the first send.
    for (const codec of ["bytes", {}, 42] as never[]) {
      expect(() => createStreamChannel(near, { codec })).toThrow(
        expect.objectContaining({ code: IpcErrorCode.INVALID_ARGUMENT }),
      );
    }
    near.destroy();
    far.destroy();
  });
});

describe("stream channel idle timeout", () => {
  it("does not count the time it stopped reading because its reader's buffer was full", async () => {
    const [near, far] = await connectedSocketPair();
    const channel = createStreamChannel(near, { codec: bytes, idleTimeout: 300, receiveHighWaterMark: 1000 });
    // 20 messages fill the 1000-byte buffer; the rest waits in the kernel while nobody receives.
    for (let i = 0; i < 40; i += 1) far.write(Buffer.from([0, 0, 0, 1, i]));
    await new Promise((resolve) => setTimeout(resolve, 700));
    for (let i = 0; i < 40; i += 1) expect((await channel.receive({ timeout: 2000 }))[0]).toBe(i);
    // Still open: messages buffered before a failure would have been delivered too.
    far.write(Buffer.from([0, 0, 0, 1, 99]));
    expect((await channel.receive({ timeout: 2000 }))[0]).toBe(99);
    await channel.close();
    far.destroy();
  });

  it("fails with ERR_IPC_PEER_GONE when the peer stays silent longer than idleTimeout", async () => {
    const [near, far] = await connectedSocketPair();
    const channel = createStreamChannel(near, { idleTimeout: 200 });
    const pending = expect(channel.receive()).rejects.toMatchObject({ code: IpcErrorCode.PEER_GONE });
    await pending;
    expect(near.destroyed).toBe(true);
    far.destroy();
  });

  it("stays open while the peer keeps talking", async () => {
    const [near, far] = await connectedSocketPair();
    const channel = createStreamChannel(near, { idleTimeout: 300 });
    const peer = createStreamChannel(far);
    for (let i = 0; i < 6; i += 1) {
      await peer.send(i);
      expect(await channel.receive()).toBe(i);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(channel.state).toBe("open");
    await Promise.all([channel.close(), peer.close()]);
  });
});
