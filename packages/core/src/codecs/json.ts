import type { Codec } from "../codec.js";

// fatal: true rejects invalid UTF-8 instead of silently replacing it with U+FFFD.
const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A JSON value, as the `json` codec carries it. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * The default codec: UTF-8 JSON, readable by any language (`json.loads(conn.recv_bytes())` in Python).
 * Safe on untrusted input. Values JSON cannot represent (`undefined`, functions, BigInt) are refused.
 */
export const json: Codec<unknown> = {
  name: "json",
  encode(message) {
    const text = JSON.stringify(message);
    if (text === undefined) throw new TypeError(`${typeof message} has no JSON representation`);
    return Buffer.from(text, "utf8");
  },
  decode(payload) {
    return JSON.parse(utf8Decoder.decode(payload));
  },
};
