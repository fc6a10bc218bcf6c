import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Duplex } from "node:stream";
import { IpcError, IpcErrorCode, isIpcError } from "./errors.js";
import { encodeFrameHeader } from "./framing.js";
import { SmallFrameReader } from "./small-frame-reader.js";
import { type WaitOptions, waitLimits } from "./wait.js";

/** Milliseconds the whole authkey handshake may take before it fails with `ERR_IPC_TIMEOUT`. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** Largest handshake message accepted, as in Python (`recv_bytes(256)`). */
export const MAX_HANDSHAKE_MESSAGE_BYTES = 256;

const CHALLENGE = Buffer.from("#CHALLENGE#");
const WELCOME = Buffer.from("#WELCOME#");
const FAILURE = Buffer.from("#FAILURE#");
const CHALLENGE_RANDOM_BYTES = 40;
const LEGACY_CHALLENGE_BYTES = 20;
const LEGACY_MD5_RESPONSE_BYTES = 16;
// Python's names (multiprocessing.connection._ALLOWED_DIGESTS) and Node's.
const DIGESTS = new Map([
  ["md5", "md5"],
  ["sha256", "sha256"],
  ["sha384", "sha384"],
  ["sha3_256", "sha3-256"],
  ["sha3_384", "sha3-384"],
]);

/** A digest the handshake may ask for, by Python's name. */
export type HandshakeDigest = "sha256" | "sha384" | "sha3_256" | "sha3_384";

/** Options for {@link authenticateStream}. */
export interface HandshakeOptions extends WaitOptions {
  /** The shared secret (a string is taken as UTF-8). */
  authkey: Uint8Array | string;
  /** `"server"` challenges first (Python's `Listener`), `"client"` answers first (Python's `Client`). */
  role: "server" | "client";
  /** Digest our challenge asks for. Legacy (Python ≤ 3.11) peers answer with HMAC-MD5, which is accepted. @default "sha256" */
  digest?: HandshakeDigest;
}

/**
 * Runs Python's `multiprocessing.connection` authkey handshake on a connected stream: both sides prove
 * they know the key (HMAC challenge/response, both directions), compared in constant time. Guarantees:
 * no message is delivered before it succeeds; bytes that arrive after it stay in the stream for the
 * channel; on any failure the stream is destroyed.
 * @throws `ERR_IPC_AUTH` (wrong key, malformed or oversize handshake), `ERR_IPC_TIMEOUT` (default 10 s),
 * `ERR_IPC_ABORTED`, `ERR_IPC_PEER_GONE`
 */
export async function authenticateStream(stream: Duplex, options: HandshakeOptions): Promise<void> {
  const key = typeof options.authkey === "string" ? Buffer.from(options.authkey, "utf8") : options.authkey;
  if (!(key instanceof Uint8Array)) {
    throw new IpcError(IpcErrorCode.INVALID_ARGUMENT, "authkey must be a Uint8Array or a string");
  }
  const digest = options.digest ?? "sha256";
  if (!DIGESTS.has(digest) || digest === ("md5" as string)) {
    throw new IpcError(IpcErrorCode.INVALID_ARGUMENT, `unsupported handshake digest ${String(digest)}`);
  }
  const reader = new SmallFrameReader(stream, {
    maxFrameBytes: MAX_HANDSHAKE_MESSAGE_BYTES,
    context: "the authkey handshake",
  });
  const timeout = options.timeout ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  const limits = waitLimits("authkey handshake", { signal: options.signal, timeout });
  const steps = (async () => {
    if (options.role === "server") {
      await deliverChallenge(stream, reader, key, digest);
      await answerChallenge(stream, reader, key);
    } else {
      await answerChallenge(stream, reader, key);
      await deliverChallenge(stream, reader, key, digest);
    }
  })();
  try {
    await Promise.race([steps, limits.expired]);
    reader.release();
  } catch (error) {
    reader.release();
    stream.destroy();
    steps.catch(() => {});
    throw error;
  } finally {
    limits.release();
  }
}

async function deliverChallenge(stream: Duplex, reader: SmallFrameReader, key: Uint8Array, digest: string) {
  const message = Buffer.concat([Buffer.from(`{${digest}}`), randomBytes(CHALLENGE_RANDOM_BYTES)]);
  writeFrame(stream, Buffer.concat([CHALLENGE, message]));
  const response = await readHandshake(reader);
  let verified = false;
  try {
    verified = verifyResponse(key, message, response);
  } catch {
    // A malformed answer is a wrong answer: the peer is told, as Python tells it.
  }
  if (!verified) {
    writeFrame(stream, FAILURE);
    throw authError("the peer's answer to our challenge is wrong: it does not know the authkey");
  }
  writeFrame(stream, WELCOME);
}

async function answerChallenge(stream: Duplex, reader: SmallFrameReader, key: Uint8Array) {
  const challenge = await readHandshake(reader);
  if (!challenge.subarray(0, CHALLENGE.length).equals(CHALLENGE)) {
    throw authError("the peer did not start the handshake with a challenge; is it using an authkey?");
  }
  const message = challenge.subarray(CHALLENGE.length);
  if (message.length < LEGACY_CHALLENGE_BYTES) {
    throw authError(`the peer's challenge is too short (${message.length} bytes)`);
  }
  writeFrame(stream, createResponse(key, message));
  const verdict = await readHandshake(reader);
  if (!verdict.equals(WELCOME)) {
    throw authError("the peer rejected our answer: the authkeys differ");
  }
}

/** Our answer: raw HMAC-MD5 for a legacy (unprefixed) challenge, else `{digest}` + HMAC over the whole message. */
function createResponse(key: Uint8Array, message: Buffer): Buffer {
  const digest = digestOf(message);
  if (digest === undefined) return createHmac("md5", key).update(message).digest();
  const mac = createHmac(DIGESTS.get(digest)!, key).update(message).digest();
  return Buffer.concat([Buffer.from(`{${digest}}`), mac]);
}

function verifyResponse(key: Uint8Array, message: Buffer, response: Buffer): boolean {
  let digest: string | undefined;
  let mac: Buffer;
  if (response.length === LEGACY_MD5_RESPONSE_BYTES || response.length === LEGACY_CHALLENGE_BYTES) {
    digest = "md5";
    mac = response;
  } else {
    digest = digestOf(response);
    if (digest === undefined) return false;
    mac = response.subarray(digest.length + 2);
  }
  const expected = createHmac(DIGESTS.get(digest)!, key).update(message).digest();
  return expected.length === mac.length && timingSafeEqual(expected, mac);
}

/** The `{name}` prefix of a modern message, or undefined for a legacy one. @throws `ERR_IPC_AUTH` if malformed */
function digestOf(message: Buffer): string | undefined {
  if (message.length === LEGACY_CHALLENGE_BYTES || message.length === LEGACY_MD5_RESPONSE_BYTES)
    return undefined;
  const close = message.indexOf("}");
  const name = message[0] === 0x7b && close > 1 ? message.subarray(1, close).toString("latin1") : "";
  if (!DIGESTS.has(name)) {
    throw authError("the peer's handshake message has no supported {digest} prefix");
  }
  return name;
}

/** Reads one handshake message; framing problems are authentication failures here. */
async function readHandshake(reader: SmallFrameReader): Promise<Buffer> {
  try {
    return await reader.read();
  } catch (error) {
    if (isIpcError(error, IpcErrorCode.FRAME_TOO_LARGE) || isIpcError(error, IpcErrorCode.PROTOCOL)) {
      throw authError(error.message);
    }
    throw error;
  }
}

function writeFrame(stream: Duplex, payload: Buffer): void {
  stream.write(Buffer.concat([encodeFrameHeader(payload.length), payload]));
}

function authError(reason: string): IpcError {
  return new IpcError(
    IpcErrorCode.AUTH,
    `authkey handshake failed: ${reason}. Check that both ends use the same authkey`,
  );
}
