import type { Codec } from "../codec.js";

/**
 * Raw bytes, no encoding: what `send_bytes`/`recv_bytes` carry in Python. A received payload is a view of
 * the receive buffer (no copy); a sent array is copied once, so the caller may reuse it when `send` resolves.
 */
export const bytes: Codec<Uint8Array> = {
  name: "bytes",
  borrowsInput: true,
  encode(message) {
    if (!(message instanceof Uint8Array)) {
      throw new TypeError(
        `expected a Uint8Array (or Buffer), got ${message === null ? "null" : typeof message}`,
      );
    }
    return message;
  },
  decode(payload) {
    // A plain Uint8Array view (not a Buffer), whatever the transport read into: no copy.
    return payload.constructor === Uint8Array
      ? payload
      : new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
  },
};
