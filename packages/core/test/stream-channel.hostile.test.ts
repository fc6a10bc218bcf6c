// What the peer of a stream channel can do to it, and what it cannot.
import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import {
  bytes,
  type CreateStreamChannelOptions,
  createStreamChannel,
  DirectReads,
  IpcErrorCode,
  isIpcError,
} from "@ipc/core";
import { describe, expect, it } from "vitest";
import { connectedSocketPair } from "./fixtures/socket-pair.js";

/** A connected pair whose receiving end is read with "data" events or with direct reads. */
async function receiverAndWriter<T>(
  reading: "data events" | "direct reads",
  options: CreateStreamChannelOptions<T>,
): Promise<{ receiver: ReturnType<typeof createStreamChannel<T>>; near: Socket }> {
  if (reading === "data events") {
    const [near, far] = await connectedSocketPair();
    return { receiver: createStreamChannel(far, options), near };
  }
  const reads = new DirectReads();
  const [client, server] = await connectedSocketPair(reads.onread);
  return { receiver: createStreamChannel(client, { ...options, directReads: reads }), near: server };
}

describe.each(["data events", "direct reads"] as const)("a peer that floods (%s)", (reading) => {
  it("stops reading a flood of empty messages once the reader's buffer is full (each message costs 64 bytes)", async () => {
    const { receiver, near } = await receiverAndWriter(reading, { codec: bytes });
    // 16,384 empty frames (a 4-byte zero header each) per write, written until the kernel stops taking them.
    const burst = Buffer.alloc(64 * 1024);
    let frames = 0;
    for (let round = 0; round < 200; round += 1) {
      if (!near.write(burst)) {
        const drained = await Promise.race([
          new Promise((resolve) => near.once("drain", () => resolve(true))),
          new Promise((resolve) => setTimeout(() => resolve(false), 300)),
        ]);
        if (!drained) break;
      }
      frames += burst.length / 4;
    }
    // 1 MiB of buffer at 64 bytes a message is 16,384 messages, plus what the kernel holds: far from the
    // 3.2 million frames the writer would have pushed if nothing held it back.
    expect(frames).toBeLessThan(400_000);
    let received = 0;
    while (received < frames) {
      expect((await receiver.receive({ timeout: 5000 })).byteLength).toBe(0);
      received += 1;
    }
    near.destroy();
    await receiver.close();
  });
});

describe.each(["data events", "direct reads"] as const)("a peer that sends garbage (%s)", (reading) => {
  it("closes with a protocol or size error on random bytes, never throws past the channel and never hangs", async () => {
    for (let run = 0; run < 50; run += 1) {
      const { receiver, near } = await receiverAndWriter(reading, { maxFrameSize: 1024 });
      near.end(randomBytes(1 + ((run * 97) % 4000)));
      for (;;) {
        const outcome = await receiver.receive({ timeout: 5000 }).then(
          () => "message",
          (error: unknown) => (isIpcError(error) ? error.code : String(error)),
        );
        if (outcome === "message" || outcome === IpcErrorCode.DECODE) continue;
        expect([
          IpcErrorCode.PROTOCOL,
          IpcErrorCode.FRAME_TOO_LARGE,
          IpcErrorCode.PEER_GONE,
          IpcErrorCode.CLOSED,
        ]).toContain(outcome);
        break;
      }
      await receiver.close();
    }
  });
});
