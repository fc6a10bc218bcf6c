import { deserialize, serialize } from "node:v8";
import type { Codec } from "../codec.js";

/**
 * Node's structured clone (`v8.serialize`): Map, Set, Date, RegExp, BigInt, typed arrays, errors and cycles.
 * Node-to-Node only, and only between trusted peers of the same or a compatible Node major.
 */
export const v8: Codec<unknown> = {
  name: "v8",
  encode(message) {
    return serialize(message);
  },
  decode(payload) {
    return deserialize(payload);
  },
};
