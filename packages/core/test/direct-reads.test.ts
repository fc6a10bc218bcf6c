// A stream channel whose socket reads straight into the messages (DirectReads), on real sockets.
import type { Socket } from "node:net";
import { setImmediate as nextTurn, setTimeout as sleep } from "node:timers/promises";
import { bytes, createStreamChannel, DirectReads, IpcErrorCode } from "@ipc/core";
import { encodeFrameHeader } from "@ipc/core/transport";
import { afterEach, describe, expect, it } from "vitest";
import { connectedSocketPair } from "./fixtures/socket-pair.js";

const KIB = 1024;
const MIB = 1024 * KIB;
const sockets: Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
});

/** A connected pair whose client was created with the `onread` of `reads` (closed after each test). */
async function directSockets() {
  const reads = new DirectReads();
  const [client, server] = await connectedSocketPair(reads.onread);
  sockets.push(client, server);
  return { reads, client, server };
}

/** A receiving channel reading with direct reads, and the raw socket of its peer. */
async function directPair(options: Parameters<typeof createStreamChannel>[1] = {}) {
  const { reads, client, server } = await directSockets();
  const channel = createStreamChannel<Uint8Array>(client, {
    codec: bytes,
    ...options,
    directReads: reads,
  } as Parameters<typeof createStreamChannel<Uint8Array>>[1]);
  return { channel, peer: server, reads, client };
}

/** Checks that `message` is `pattern(seed, length)`. */
function expectPattern(message: Uint8Array, seed: number, length: number): void {
  expect(Buffer.from(message).equals(Buffer.from(pattern(seed, length)))).toBe(true);
}

/** `length` bytes whose content says which message and offset they are. */
function pattern(seed: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += 1) out[i] = (seed * 131 + i * 7 + (i >>> 8)) & 0xff;
  return out;
}

function frame(payload: Uint8Array): Buffer {
  return Buffer.concat([encodeFrameHeader(payload.byteLength), payload]);
}

describe("direct reads", () => {
  it("deliver messages of every size whole and in order, around the 16 KiB and 1 MiB thresholds", async () => {
    const { channel, peer } = await directPair({ maxFrameSize: 8 * MIB });
    const sizes = [0, 1, 100, 16 * KIB - 1, 16 * KIB, 16 * KIB + 1, 64 * KIB, 64 * KIB + 3];
    sizes.push(MIB - 1, MIB, MIB + 1, 3 * MIB + 5, 0, 7);
    for (let i = 0; i < 60; i += 1) sizes.push((i * 104_729) % (300 * KIB));
    // Written as one stream cut at odd places, so headers and payloads straddle reads.
    const wire = Buffer.concat(sizes.map((size, seed) => frame(pattern(seed, size))));
    void (async () => {
      for (let at = 0; at < wire.length; ) {
        const step = 1 + ((at * 31) % (200 * KIB));
        if (!peer.write(wire.subarray(at, at + step))) await new Promise((r) => peer.once("drain", r));
        at += step;
      }
    })();
    for (const [seed, size] of sizes.entries()) {
      const message = await channel.receive({ timeout: 10_000 });
      expect(message.byteLength).toBe(size);
      expectPattern(message, seed, size);
    }
    await channel.close();
  });

  it("keep small messages read one at a time in shared chunks, not a 64 KiB buffer each", async () => {
    const { channel, peer } = await directPair();
    const count = 3000;
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < count; i += 1) {
      peer.write(frame(pattern(i, 10)));
      await nextTurn(); // the receiving end reads each message on its own
    }
    await sleep(50);
    // 3,000 reads given a fresh 64 KiB each would hold 190 MiB; shared chunks hold about 50 KiB.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * MIB);
    for (let i = 0; i < count; i += 1) {
      expectPattern(await channel.receive({ timeout: 5000 }), i, 10);
    }
    await channel.close();
  });

  it("hand over bytes that arrived before the channel took the socket", async () => {
    const { reads, client, server } = await directSockets();
    server.write(frame(pattern(1, 40 * KIB)));
    server.write(frame(pattern(2, 3)));
    await sleep(50); // read already, into a chunk the socket now holds paused
    const channel = createStreamChannel<Uint8Array>(client, { codec: bytes, directReads: reads });
    expectPattern(await channel.receive({ timeout: 5000 }), 1, 40 * KIB);
    expectPattern(await channel.receive({ timeout: 5000 }), 2, 3);
    await channel.close();
  });

  it("leave a socket that brought a full buffer before the channel took it paused", async () => {
    const { reads, client, server } = await directSockets();
    server.write(Buffer.alloc(256 * KIB)); // 65,536 empty messages
    await sleep(50); // one 64 KiB read, kept while the socket waits for its channel
    const channel = createStreamChannel<Uint8Array>(client, {
      codec: bytes,
      directReads: reads,
      receiveHighWaterMark: 1000,
    });
    await sleep(100);
    expect(client.bytesRead).toBe(64 * KIB);
    expect((await channel.receive({ timeout: 5000 })).byteLength).toBe(0);
    await channel.close();
  });

  it("are refused for a socket not created with their onread (its bytes would flow past the channel)", async () => {
    const [client, server] = await connectedSocketPair();
    sockets.push(client, server);
    expect(() => createStreamChannel(client, { directReads: new DirectReads() })).toThrow(
      expect.objectContaining({ code: IpcErrorCode.INVALID_ARGUMENT }),
    );
  });

  it("count reads into a message as arrivals for idleTimeout", async () => {
    const { channel, peer } = await directPair({ idleTimeout: 300 });
    const payload = pattern(3, 640 * KIB);
    peer.write(encodeFrameHeader(payload.byteLength));
    // 64 KiB every 60 ms: 600 ms for the message, never 300 ms of silence.
    for (let at = 0; at < payload.byteLength; at += 64 * KIB) {
      await sleep(60);
      peer.write(payload.subarray(at, at + 64 * KIB));
    }
    expectPattern(await channel.receive({ timeout: 5000 }), 3, 640 * KIB);
    await channel.close();
  });

  it("report a peer that ends in the middle of a large message as ERR_IPC_PEER_GONE", async () => {
    const { channel, peer } = await directPair();
    peer.write(encodeFrameHeader(MIB));
    peer.end(pattern(4, 300 * KIB));
    await expect(channel.receive({ timeout: 5000 })).rejects.toMatchObject({ code: IpcErrorCode.PEER_GONE });
  });

  it("refuse a header over maxFrameSize before reading its payload", async () => {
    const { channel, peer } = await directPair({ maxFrameSize: 64 * KIB });
    peer.write(encodeFrameHeader(MIB));
    await expect(channel.receive({ timeout: 5000 })).rejects.toMatchObject({
      code: IpcErrorCode.FRAME_TOO_LARGE,
    });
  });

  it("cannot be combined with onCutFrame, and belong to one channel", async () => {
    const { reads, client } = await directSockets();
    expect(() => createStreamChannel(client, { directReads: reads, onCutFrame: () => {} })).toThrow(
      expect.objectContaining({ code: IpcErrorCode.INVALID_ARGUMENT }),
    );
    const channel = createStreamChannel(client, { directReads: reads });
    expect(() => createStreamChannel(client, { directReads: reads })).toThrow(
      expect.objectContaining({ code: IpcErrorCode.INVALID_ARGUMENT }),
    );
    await channel.close();
  });
});
