import { Packr, type Options as PackrOptions } from "msgpackr";
import type { Codec } from "./codec.js";

/** Options for {@link createMsgpackCodec}: msgpackr's own options. */
export type MsgpackCodecOptions = PackrOptions;

/**
 * A MessagePack codec backed by msgpackr (install `msgpackr` yourself: it is an optional peer dependency).
 * By default it writes standard MessagePack without msgpackr's record extension, so any MessagePack
 * library (Python's `msgpack`, too) reads it. Decoding never executes code.
 */
export function createMsgpackCodec(options: MsgpackCodecOptions = {}): Codec<unknown> {
  const packr = new Packr({ useRecords: false, ...options });
  return {
    name: "msgpack",
    encode: (message) => packr.pack(message),
    // A Buffer view (no copy), so binary values come back as Buffers whatever the transport read into.
    decode: (payload) =>
      packr.unpack(
        Buffer.isBuffer(payload)
          ? payload
          : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
      ),
  };
}

/** MessagePack with msgpackr's defaults for cross-language use (see {@link createMsgpackCodec}). */
export const msgpack: Codec<unknown> = createMsgpackCodec();
