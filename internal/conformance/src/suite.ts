import { type Channel, IpcErrorCode, isIpcError } from "@ipc/core";
import { describe, expect, it } from "vitest";
import type { CodecName } from "./codecs.js";
import type { ConformancePair, ConformanceSubject, Flow, PairOptions } from "./subject.js";

const KIB = 1024;
const MIB = 1024 * KIB;
/** The most a transport may buffer for a reader that does not read, before senders must wait. */
const BACKPRESSURE_BOUND_BYTES = 64 * MIB;

const SAMPLES: Record<CodecName, unknown[]> = {
  json: [
    null,
    true,
    0,
    -1.5,
    "",
    "héllo wörld ✓ 🚀",
    [1, [2, [3]]],
    { nested: { list: [1, "two", null] }, n: 1e300 },
  ],
  v8: [
    new Map<unknown, unknown>([
      ["a", 1],
      [2, new Set([3])],
    ]),
    new Date(1_700_000_000_000),
    2n ** 100n,
    new Uint8Array([0, 1, 254, 255]),
    { undefinedValue: undefined, regexp: /ab+c/gi, nan: Number.NaN },
  ],
  bytes: [new Uint8Array(0), new Uint8Array([0, 10, 13, 255]), new Uint8Array(100_000).fill(7)],
  msgpack: [null, 42, "text", { list: [1, 2, 3], bin: Buffer.from([1, 2, 3]) }, [true, false, -7.25]],
};

/** Runs the contract checks that apply to `subject` (see {@link ConformanceSubject.capabilities}). */
export function describeConformance(subject: ConformanceSubject): void {
  const { duplex, raw, crossProcess } = subject.capabilities;
  const flows = (wanted: "local-to-remote" | "remote-to-local"): Flow => (duplex ? "both" : wanted);

  async function withPair(
    options: Partial<PairOptions> & { flow: Flow },
    test: (pair: ConformancePair) => Promise<void>,
  ): Promise<void> {
    const pair = await subject.open({ localCodec: "json", remoteCodec: "json", ...options });
    try {
      await test(pair);
    } finally {
      await pair.dispose();
    }
  }
  const outbound = (test: (pair: ConformancePair) => Promise<void>, options: Partial<PairOptions> = {}) =>
    withPair({ ...options, flow: flows("local-to-remote") }, test);
  const inbound = (test: (pair: ConformancePair) => Promise<void>, options: Partial<PairOptions> = {}) =>
    withPair({ ...options, flow: flows("remote-to-local") }, test);

  describe(`${subject.name}: conformance`, () => {
    describe("delivery", () => {
      it("delivers a message from the local end to the remote end", () =>
        outbound(async ({ local, remote }) => {
          await local.send({ hello: "remote" });
          expect(await remote.take(1)).toEqual({ values: [{ hello: "remote" }] });
        }));

      it("delivers a message from the remote end to the local end", () =>
        inbound(async ({ local, remote }) => {
          await remote.send([{ hello: "local" }]);
          expect(await local.receive()).toEqual({ hello: "local" });
        }));

      it("keeps the order of 5000 messages sent by the local end", () =>
        outbound(async ({ local, remote }) => {
          const taken = remote.take(5000);
          for (let i = 0; i < 5000; i += 1) await local.send(i);
          expect((await taken).values).toEqual(Array.from({ length: 5000 }, (_, i) => i));
        }));

      it("keeps the order of 5000 messages sent by the remote end", () =>
        inbound(async ({ local, remote }) => {
          const expected = Array.from({ length: 5000 }, (_, i) => ({ i }));
          const sent = remote.send(expected);
          const received: unknown[] = [];
          for (let i = 0; i < 5000; i += 1) received.push(await local.receive());
          await sent;
          expect(received).toEqual(expected);
        }));

      it("keeps call order for sends that were not awaited one by one", () =>
        outbound(async ({ local, remote }) => {
          const taken = remote.take(1000);
          await Promise.all(Array.from({ length: 1000 }, (_, i) => local.send(i)));
          expect((await taken).values).toEqual(Array.from({ length: 1000 }, (_, i) => i));
        }));

      it("delivers 0-byte messages both ways", async () => {
        await outbound(
          async ({ local, remote }) => {
            await local.send(new Uint8Array(0));
            await local.send(new Uint8Array([1]));
            expect((await remote.take(2)).values).toEqual([new Uint8Array(0), new Uint8Array([1])]);
          },
          { localCodec: "bytes", remoteCodec: "bytes" },
        );
        await inbound(
          async ({ local, remote }) => {
            await remote.send([new Uint8Array(0), new Uint8Array([2])]);
            expect(await local.receive()).toEqual(new Uint8Array(0));
            expect(await local.receive()).toEqual(new Uint8Array([2]));
          },
          { localCodec: "bytes", remoteCodec: "bytes" },
        );
      });

      it("delivers an 8 MiB message intact both ways", async () => {
        const big = patterned(8 * MIB);
        await outbound(
          async ({ local, remote }) => {
            const taken = remote.take(1);
            await local.send(big);
            expect(equalBytes((await taken).values[0], big)).toBe(true);
          },
          { localCodec: "bytes", remoteCodec: "bytes" },
        );
        await inbound(
          async ({ local, remote }) => {
            const sent = remote.send([big]);
            expect(equalBytes(await local.receive(), big)).toBe(true);
            await sent;
          },
          { localCodec: "bytes", remoteCodec: "bytes" },
        );
      });

      it("delivers every byte value unchanged", () =>
        inbound(
          async ({ local, remote }) => {
            const all = Uint8Array.from({ length: 256 * 4 }, (_, i) => i % 256);
            await remote.send([all]);
            expect(await local.receive()).toEqual(all);
          },
          { localCodec: "bytes", remoteCodec: "bytes" },
        ));

      if (duplex) {
        it("round-trips messages through the remote end (echo)", () =>
          withPair({ flow: "both" }, async ({ local, remote }) => {
            const echoed = remote.echo(100);
            for (let i = 0; i < 100; i += 1) {
              await local.send({ i });
              expect(await local.receive()).toEqual({ i });
            }
            await echoed;
          }));
      }
    });

    describe("codecs", () => {
      for (const codec of Object.keys(SAMPLES) as CodecName[]) {
        it(`round-trips ${codec} values both ways`, async () => {
          const samples = SAMPLES[codec];
          await outbound(
            async ({ local, remote }) => {
              for (const sample of samples) await local.send(sample);
              expect((await remote.take(samples.length)).values).toEqual(samples);
            },
            { localCodec: codec, remoteCodec: codec },
          );
          await inbound(
            async ({ local, remote }) => {
              await remote.send(samples);
              for (const sample of samples) expect(await local.receive()).toEqual(sample);
            },
            { localCodec: codec, remoteCodec: codec },
          );
        });
      }

      it("rejects a message the codec cannot encode with ERR_IPC_ENCODE and stays usable", () =>
        outbound(async ({ local, remote }) => {
          await expectCode(local.send(undefined), IpcErrorCode.ENCODE);
          await expectCode(
            local.send(() => 1),
            IpcErrorCode.ENCODE,
          );
          await local.send("after");
          expect((await remote.take(1)).values).toEqual(["after"]);
        }));

      it("rejects an undecodable message with ERR_IPC_DECODE and stays usable", () =>
        inbound(
          async ({ local, remote }) => {
            await remote.send([new Uint8Array([0xff, 0xfe, 0x00]), Buffer.from('{"ok":true}')]);
            await expectCode(local.receive(), IpcErrorCode.DECODE);
            expect(await local.receive()).toEqual({ ok: true });
          },
          { localCodec: "json", remoteCodec: "bytes" },
        ));
    });

    describe("frame limits", () => {
      it("closes the receiver with ERR_IPC_FRAME_TOO_LARGE when a frame exceeds its maxFrameSize", () =>
        inbound(
          async ({ local, remote }) => {
            await remote.send([new Uint8Array(100), new Uint8Array(2048)]);
            expect(await local.receive()).toEqual(new Uint8Array(100));
            await expectCode(local.receive(), IpcErrorCode.FRAME_TOO_LARGE);
            expect(await local.closed).toMatchObject({
              initiator: "error",
              error: { code: "ERR_IPC_FRAME_TOO_LARGE" },
            });
          },
          { localCodec: "bytes", remoteCodec: "bytes", localMaxFrameSize: 1024 },
        ));

      it("refuses to send a message over maxFrameSize, sending nothing, and stays usable", () =>
        outbound(
          async ({ local, remote }) => {
            await expectCode(local.send(new Uint8Array(2048)), IpcErrorCode.FRAME_TOO_LARGE);
            await local.send(new Uint8Array([9]));
            expect((await remote.take(1)).values).toEqual([new Uint8Array([9])]);
          },
          { localCodec: "bytes", remoteCodec: "bytes", localMaxFrameSize: 1024 },
        ));

      if (raw) {
        it("rejects an oversize length claim as soon as the header arrives", () =>
          inbound(async ({ local, remote }) => {
            await remote.writeRaw!(header(0x7fff_fff0));
            await expectCode(local.receive({ timeout: 10_000 }), IpcErrorCode.FRAME_TOO_LARGE);
            expect((await local.closed).error?.code).toBe(IpcErrorCode.FRAME_TOO_LARGE);
          }));

        it("rejects an oversize 8-byte length claim (the -1 form)", () =>
          inbound(async ({ local, remote }) => {
            const claim = Buffer.alloc(12);
            claim.writeInt32BE(-1, 0);
            claim.writeBigUInt64BE(2n ** 40n, 4);
            await remote.writeRaw!(claim);
            await expectCode(local.receive({ timeout: 10_000 }), IpcErrorCode.FRAME_TOO_LARGE);
          }));

        it("closes with ERR_IPC_PROTOCOL on a malformed header, after delivering earlier messages", () =>
          inbound(async ({ local, remote }) => {
            await remote.send(["before"]);
            await remote.writeRaw!(header(-5));
            expect(await local.receive()).toBe("before");
            await expectCode(local.receive({ timeout: 10_000 }), IpcErrorCode.PROTOCOL);
            expect((await local.closed).initiator).toBe("error");
          }));

        it("reports ERR_IPC_PEER_GONE when the stream ends inside a frame", () =>
          inbound(async ({ local, remote }) => {
            await remote.writeRaw!(Buffer.concat([header(100), Buffer.alloc(10)]));
            await remote.close();
            await expectCode(local.receive({ timeout: 10_000 }), IpcErrorCode.PEER_GONE);
            expect((await local.closed).error?.code).toBe(IpcErrorCode.PEER_GONE);
          }));

        it("decodes a frame the peer wrote in many small pieces", () =>
          inbound(async ({ local, remote }) => {
            const frame = Buffer.concat([header(5), Buffer.from('"abc"')]);
            for (const byte of frame) await remote.writeRaw!(Uint8Array.of(byte));
            expect(await local.receive({ timeout: 10_000 })).toBe("abc");
          }));
      }
    });

    if (crossProcess) {
      describe("peer death", () => {
        it("ends local iteration, or fails it with ERR_IPC_PEER_GONE, when the remote process is killed between messages", () =>
          inbound(async (pair) => {
            await pair.remote.send(["last words"]);
            expect(await pair.local.receive()).toBe("last words");
            await pair.killRemote!();
            // A transport that only sees the stream end reports a clean end; one that knows the process
            // reports the kill. Either way nothing more arrives and nothing hangs.
            const seen: unknown[] = [];
            let failure: unknown;
            try {
              for await (const message of pair.local) seen.push(message);
            } catch (error) {
              failure = error;
            }
            expect(seen).toEqual([]);
            if (failure !== undefined) expect(isIpcError(failure, IpcErrorCode.PEER_GONE)).toBe(true);
            await expect(pair.local.receive()).rejects.toMatchObject({
              code: failure === undefined ? IpcErrorCode.CLOSED : IpcErrorCode.PEER_GONE,
            });
            expect((await pair.local.closed).initiator).toBe("peer");
          }));

        if (raw) {
          it("fails a pending receive with ERR_IPC_PEER_GONE when the remote process dies mid-frame", () =>
            inbound(async (pair) => {
              await pair.remote.writeRaw!(Buffer.concat([header(1000), Buffer.alloc(100)]));
              const pending = expectCode(pair.local.receive({ timeout: 10_000 }), IpcErrorCode.PEER_GONE);
              await pair.killRemote!();
              await pending;
              expect(await pair.local.closed).toMatchObject({
                initiator: "peer",
                error: { code: IpcErrorCode.PEER_GONE },
              });
            }));
        }

        it("rejects sends soon after the remote process is gone, without hanging", () =>
          outbound(async (pair) => {
            await pair.killRemote!();
            const error = await sendUntilRejected(pair.local);
            expect([IpcErrorCode.CLOSED, IpcErrorCode.PEER_GONE]).toContain(error.code);
            expect((await pair.local.closed).initiator).toBe("peer");
          }));
      });
    }

    describe("backpressure", () => {
      it("makes a sender wait when the reader does not read, buffering a bounded amount", () =>
        outbound(
          async ({ local, remote }) => {
            const chunk = new Uint8Array(64 * KIB);
            let accepted = 0;
            for (;;) {
              try {
                await local.send(chunk.fill(accepted % 251), { timeout: 300 });
                accepted += 1;
              } catch (error) {
                expect(isIpcError(error, IpcErrorCode.TIMEOUT)).toBe(true);
                break;
              }
              expect(accepted * chunk.byteLength).toBeLessThan(BACKPRESSURE_BOUND_BYTES);
            }
            const taken = await remote.take(accepted);
            expect(taken.values.map((value) => (value as Uint8Array)[0])).toEqual(
              Array.from({ length: accepted }, (_, i) => i % 251),
            );
            // The send that timed out sent nothing.
            expect((await remote.take(1, 300)).stoppedBy).toBe(IpcErrorCode.TIMEOUT);
          },
          { localCodec: "bytes", remoteCodec: "bytes" },
        ));

      it("sends nothing when a send waiting for room is aborted, and keeps order afterwards", () =>
        outbound(
          async ({ local, remote }) => {
            const chunk = new Uint8Array(64 * KIB);
            let accepted = 0;
            for (;;) {
              const controller = new AbortController();
              const timer = setTimeout(() => controller.abort(), 300);
              try {
                await local.send(chunk, { signal: controller.signal });
                accepted += 1;
              } catch (error) {
                expect(isIpcError(error, IpcErrorCode.ABORTED)).toBe(true);
                break;
              } finally {
                clearTimeout(timer);
              }
            }
            const last = local.send(new Uint8Array([42]));
            const taken = await remote.take(accepted + 1);
            await last;
            expect(taken.values.length).toBe(accepted + 1);
            expect(taken.values.at(-1)).toEqual(new Uint8Array([42]));
          },
          { localCodec: "bytes", remoteCodec: "bytes" },
        ));
    });

    describe("waiting", () => {
      it("rejects receive with ERR_IPC_TIMEOUT and consumes nothing", () =>
        inbound(async ({ local, remote }) => {
          await expectCode(local.receive({ timeout: 30 }), IpcErrorCode.TIMEOUT);
          await remote.send(["later"]);
          expect(await local.receive({ timeout: 10_000 })).toBe("later");
        }));

      it("rejects receive with ERR_IPC_ABORTED when its signal aborts, and consumes nothing", () =>
        inbound(async ({ local, remote }) => {
          const controller = new AbortController();
          const pending = expectCode(local.receive({ signal: controller.signal }), IpcErrorCode.ABORTED);
          controller.abort(new Error("stop"));
          await pending;
          await remote.send(["kept"]);
          expect(await local.receive()).toBe("kept");
        }));

      it("rejects receive at once when its signal is already aborted", () =>
        inbound(async ({ local, remote }) => {
          await remote.send(["buffered"]);
          await expectCode(local.receive({ signal: AbortSignal.abort() }), IpcErrorCode.ABORTED);
          expect(await local.receive()).toBe("buffered");
        }));

      it("rejects send at once when its signal is already aborted, sending nothing", () =>
        outbound(async ({ local, remote }) => {
          await local.send("first");
          await expectCode(local.send("skipped", { signal: AbortSignal.abort() }), IpcErrorCode.ABORTED);
          await local.send("second");
          expect((await remote.take(2)).values).toEqual(["first", "second"]);
        }));

      it("rejects an invalid timeout with ERR_IPC_INVALID_ARGUMENT", () =>
        inbound(async ({ local }) => {
          await expectCode(local.receive({ timeout: -1 }), IpcErrorCode.INVALID_ARGUMENT);
        }));
    });

    describe("closing", () => {
      it("ends the remote's receiving after everything the local end sent, when the local end closes", () =>
        outbound(async ({ local, remote }) => {
          const sends = Array.from({ length: 200 }, (_, i) => local.send(i));
          await Promise.all(sends);
          await local.close();
          expect(await remote.take(201, 10_000)).toEqual({
            values: Array.from({ length: 200 }, (_, i) => i),
            stoppedBy: "end",
          });
          expect(await local.closed).toEqual({ initiator: "local" });
          expect(await remote.closed()).toEqual({ initiator: "peer" });
        }));

      it("ends local iteration after everything the remote sent, when the remote closes", () =>
        inbound(async ({ local, remote }) => {
          await remote.send(["a", "b", "c"]);
          await remote.close();
          const seen: unknown[] = [];
          for await (const message of local) seen.push(message);
          expect(seen).toEqual(["a", "b", "c"]);
          await expectCode(local.receive(), IpcErrorCode.CLOSED);
          expect(await local.closed).toEqual({ initiator: "peer" });
          expect(await remote.closed()).toEqual({ initiator: "local" });
        }));

      it("rejects a pending receive with ERR_IPC_CLOSED when the local end closes", () =>
        inbound(async ({ local }) => {
          const pending = expectCode(local.receive(), IpcErrorCode.CLOSED);
          await local.close();
          await pending;
        }));

      it("ends a pending iteration when the local end closes", () =>
        inbound(async ({ local }) => {
          const iterator = local[Symbol.asyncIterator]();
          const next = iterator.next();
          await local.close();
          expect(await next).toEqual({ done: true, value: undefined });
        }));

      it("rejects a pending receive with ERR_IPC_CLOSED when the remote closes", () =>
        inbound(async ({ local, remote }) => {
          const pending = expectCode(local.receive(), IpcErrorCode.CLOSED);
          await remote.close();
          await pending;
        }));

      it("makes close idempotent, with closed settling once", () =>
        outbound(async ({ local }) => {
          const first = local.closed;
          await Promise.all([local.close(), local.close()]);
          await local.close();
          expect(local.state).toBe("closed");
          expect(local.closed).toBe(first);
          expect(await first).toEqual({ initiator: "local" });
        }));

      it("rejects send after close with ERR_IPC_CLOSED", () =>
        outbound(async ({ local }) => {
          await local.close();
          await expectCode(local.send("late"), IpcErrorCode.CLOSED);
        }));

      it("rejects sends soon after the remote has closed, with ERR_IPC_CLOSED or ERR_IPC_PEER_GONE", () =>
        outbound(async ({ local, remote }) => {
          await remote.close();
          // A one-way writer (a pipe, say) may only learn of it from its next write: allow a few.
          const error = await sendUntilRejected(local);
          expect([IpcErrorCode.CLOSED, IpcErrorCode.PEER_GONE]).toContain(error.code);
          expect((await local.closed).initiator).toBe("peer");
        }));

      it("closes the channel at the end of an `await using` block", () =>
        outbound(async ({ local, remote }) => {
          {
            await using channel = local;
            await channel.send("inside");
          }
          expect(local.state).toBe("closed");
          expect(await remote.take(2, 10_000)).toEqual({ values: ["inside"], stoppedBy: "end" });
        }));
    });
  });
}

/** Sends every 10 ms until a send rejects (at most 200 tries); returns the rejection. */
async function sendUntilRejected(channel: Channel<unknown>): Promise<{ code: string }> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    try {
      await channel.send(`probe ${attempt}`);
    } catch (error) {
      expect(isIpcError(error)).toBe(true);
      return error as { code: string };
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("every send succeeded although the remote end was gone");
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  await expect(promise).rejects.toMatchObject({ code });
}

function header(length: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeInt32BE(length, 0);
  return bytes;
}

function patterned(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 1) bytes[i] = (i * 31 + (i >>> 12)) & 0xff;
  return bytes;
}

function equalBytes(actual: unknown, expected: Uint8Array): boolean {
  return actual instanceof Uint8Array && Buffer.compare(actual, expected) === 0;
}
