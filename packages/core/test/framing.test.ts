import { DEFAULT_MAX_FRAME_SIZE_BYTES, IpcErrorCode, isIpcError } from "@ipc/core";
import { encodeFrameHeader, FrameDecoder, frameHeaderSize } from "@ipc/core/transport";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

function frame(payload: Uint8Array): Buffer {
  return Buffer.concat([encodeFrameHeader(payload.byteLength), payload]);
}

function decodeAll(decoder: FrameDecoder, chunks: Uint8Array[]): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (const chunk of chunks) decoder.push(chunk, (payload) => frames.push(Buffer.from(payload)));
  return frames;
}

function splitAt(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  return chunks;
}

describe("frame headers", () => {
  it("writes a 4-byte big-endian length, as Python's send_bytes does", () => {
    expect([...encodeFrameHeader(0)]).toEqual([0, 0, 0, 0]);
    expect([...encodeFrameHeader(0x01020304)]).toEqual([1, 2, 3, 4]);
    expect([...encodeFrameHeader(0x7fff_ffff)]).toEqual([0x7f, 0xff, 0xff, 0xff]);
  });

  it("writes -1 and an 8-byte length for payloads over 2^31-1 bytes, as Python does", () => {
    const header = encodeFrameHeader(2 ** 31);
    expect(header.length).toBe(12);
    expect(header.readInt32BE(0)).toBe(-1);
    expect(header.readBigUInt64BE(4)).toBe(2n ** 31n);
    expect(frameHeaderSize(2 ** 31)).toBe(12);
    expect(frameHeaderSize(2 ** 31 - 1)).toBe(4);
  });
});

describe("FrameDecoder", () => {
  it("returns frames inside one chunk as views of it, without copying", () => {
    const chunk = Buffer.concat(Array.from({ length: 10_000 }, (_, i) => frame(Buffer.from([i & 0xff]))));
    const views: Uint8Array[] = [];
    new FrameDecoder().push(chunk, (payload) => views.push(payload));
    expect(views).toHaveLength(10_000);
    expect(views.every((view, i) => view.buffer === chunk.buffer && view[0] === (i & 0xff))).toBe(true);
  });

  it("accepts the -1 long form with a small length", () => {
    const header = Buffer.alloc(12);
    header.writeInt32BE(-1, 0);
    header.writeBigUInt64BE(3n, 4);
    expect(
      decodeAll(new FrameDecoder(), [header.subarray(0, 5), header.subarray(5), Buffer.from("abc")]),
    ).toEqual([Buffer.from("abc")]);
  });

  it("rejects a claim over maxFrameSize before any payload byte arrives", () => {
    const decoder = new FrameDecoder(1024);
    let error: unknown;
    try {
      decoder.push(encodeFrameHeader(1025), () => {});
    } catch (caught) {
      error = caught;
    }
    expect(isIpcError(error, IpcErrorCode.FRAME_TOO_LARGE)).toBe(true);
    expect(() => decoder.push(Buffer.alloc(1), () => {})).toThrow(
      expect.objectContaining({ code: "ERR_IPC_FRAME_TOO_LARGE" }),
    );
  });

  it("rejects a negative length other than -1 with ERR_IPC_PROTOCOL", () => {
    const header = Buffer.alloc(4);
    header.writeInt32BE(-2, 0);
    expect(() => new FrameDecoder().push(header, () => {})).toThrow(
      expect.objectContaining({ code: "ERR_IPC_PROTOCOL" }),
    );
  });

  it("knows whether it stopped at a frame boundary", () => {
    const decoder = new FrameDecoder();
    const bytes = frame(Buffer.from("hello"));
    decoder.push(bytes.subarray(0, 6), () => {});
    expect(decoder.atFrameBoundary).toBe(false);
    expect(decoder.bufferedBytes).toBe(5); // the payload's buffer, allocated whole from its header
    decoder.push(bytes.subarray(6), () => {});
    expect(decoder.atFrameBoundary).toBe(true);
  });

  it("allocates nothing for a claim over 1 MiB before its bytes come, and counts only what came", () => {
    const decoder = new FrameDecoder();
    const header = Buffer.alloc(4);
    header.writeInt32BE(8 * 1024 * 1024, 0);
    const before = process.memoryUsage().arrayBuffers;
    decoder.push(Buffer.concat([header, Buffer.alloc(10)]), () => {});
    expect(decoder.bufferedBytes).toBe(10);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1024 * 1024);
  });

  it("refuses an invalid maxFrameSize with ERR_IPC_INVALID_ARGUMENT", () => {
    expect(() => new FrameDecoder(0)).toThrow(expect.objectContaining({ code: "ERR_IPC_INVALID_ARGUMENT" }));
    expect(() => new FrameDecoder(1.5)).toThrow(
      expect.objectContaining({ code: "ERR_IPC_INVALID_ARGUMENT" }),
    );
    expect(new FrameDecoder(DEFAULT_MAX_FRAME_SIZE_BYTES).atFrameBoundary).toBe(true);
  });

  it("decodes any sequence of frames the same way, however the stream is cut (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 60 }),
        (payloads, cuts) => {
          const stream = Buffer.concat(payloads.map(frame));
          const decoded = decodeAll(new FrameDecoder(), splitAt(stream, cuts));
          expect(decoded).toEqual(payloads.map((payload) => Buffer.from(payload)));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("never crashes or stalls on arbitrary bytes: frames, or a framing error (property)", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2000 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (bytes, cuts) => {
          const decoder = new FrameDecoder(512);
          let consumed = 0;
          try {
            for (const chunk of splitAt(Buffer.from(bytes), cuts)) {
              decoder.push(chunk, (payload) => {
                expect(payload.byteLength).toBeLessThanOrEqual(512);
              });
              consumed += chunk.length;
            }
            expect(consumed).toBe(bytes.length);
            expect(decoder.bufferedBytes).toBeLessThanOrEqual(512 + 12);
          } catch (error) {
            expect(isIpcError(error)).toBe(true);
            expect([IpcErrorCode.FRAME_TOO_LARGE, IpcErrorCode.PROTOCOL]).toContain(
              (error as { code: string }).code,
            );
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("decodes a large frame delivered in thousands of chunks in linear time", () => {
    const payload = Buffer.alloc(4 * 1024 * 1024, 7);
    const chunks = splitAt(
      frame(payload),
      Array.from({ length: 4096 }, (_, i) => i * 1024 + 3),
    );
    const decoded = decodeAll(new FrameDecoder(), chunks);
    expect(decoded).toHaveLength(1);
    expect(Buffer.compare(decoded[0]!, payload)).toBe(0);
  });
});
