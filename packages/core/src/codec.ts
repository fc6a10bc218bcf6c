import { IpcError, IpcErrorCode } from "./errors.js";

/**
 * Turns a message into bytes and back. Guarantees of every built-in codec: `decode(encode(m))` equals `m`
 * for every message the codec accepts, and decoding never executes code from the bytes.
 */
export interface Codec<T> {
  /** Short name used in errors and benchmarks (`"json"`). */
  readonly name: string;
  /** Encodes one message; throws to refuse it (the channel reports `ERR_IPC_ENCODE`). */
  encode(message: T): Uint8Array;
  /** True when `encode` may return the caller's own bytes, which a channel must copy before keeping them. */
  readonly borrowsInput?: boolean;
  /** Decodes one whole frame payload; throws to refuse it (the channel reports `ERR_IPC_DECODE`). */
  decode(payload: Uint8Array): T;
}

/** `codec` itself, once it is known to be a codec object. @throws `ERR_IPC_INVALID_ARGUMENT` */
export function checkCodec<T>(codec: Codec<T>): Codec<T> {
  const candidate = codec as Partial<Codec<T>> | null;
  if (
    typeof candidate !== "object" ||
    candidate === null ||
    typeof candidate.encode !== "function" ||
    typeof candidate.decode !== "function"
  ) {
    throw new IpcError(
      IpcErrorCode.INVALID_ARGUMENT,
      `codec must be a codec object with encode and decode (json, v8 or bytes from @ipc/core, or your own), got ${typeof codec === "string" ? JSON.stringify(codec) : typeof codec}`,
    );
  }
  return codec;
}

/** Encodes with `codec`, turning any failure into `ERR_IPC_ENCODE`. */
export function encodeWith<T>(codec: Codec<T>, message: T): Uint8Array {
  let payload: unknown;
  try {
    payload = codec.encode(message);
  } catch (error) {
    throw new IpcError(
      IpcErrorCode.ENCODE,
      `the ${codec.name} codec could not encode the message: ${describe(error)}. Send a value this codec supports, or choose another codec`,
      { cause: error },
    );
  }
  if (!(payload instanceof Uint8Array)) {
    throw new IpcError(
      IpcErrorCode.ENCODE,
      `the ${codec.name} codec returned ${typeof payload} instead of a Uint8Array; a codec's encode must return bytes`,
    );
  }
  return payload;
}

/** Decodes with `codec`, turning any failure into `ERR_IPC_DECODE`. */
export function decodeWith<T>(codec: Codec<T>, payload: Uint8Array): T {
  try {
    return codec.decode(payload);
  } catch (error) {
    throw new IpcError(
      IpcErrorCode.DECODE,
      `the ${codec.name} codec could not decode a ${payload.byteLength}-byte message: ${describe(error)}. The channel is still usable; check that both ends use the same codec`,
      { cause: error },
    );
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
