import { bytes, type Codec, json, v8 } from "@ipc/core";
import { msgpack } from "@ipc/core/msgpack";

/** Codecs the suite exercises, by name, so both processes of a pair can pick the same one. */
export const CODECS = { json, v8, bytes, msgpack } as const satisfies Record<string, Codec<unknown>>;

/** Name of a codec in {@link CODECS}. */
export type CodecName = keyof typeof CODECS;

/** The codec called `name`. */
export function codecByName(name: CodecName): Codec<unknown> {
  return CODECS[name] as Codec<unknown>;
}
