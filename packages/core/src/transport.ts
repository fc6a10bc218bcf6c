// @ipc/core/transport: the machinery @ipc transports are built from. Users want "@ipc/core".
export type { BaseChannelOptions } from "./base-channel.js";
export { BaseChannel } from "./base-channel.js";
export { ClosableEnd } from "./closable-end.js";
export { decodeWith, encodeWith } from "./codec.js";
export { CopyPool } from "./copy-pool.js";
export { toIpcError } from "./errors.js";
export {
  checkFrameSize,
  encodeFrameHeader,
  FrameDecoder,
  frameHeaderBytesAt,
  frameHeaderSize,
  LONG_HEADER_BYTES,
  MAX_SHORT_FRAME_PAYLOAD_BYTES,
  readFrameHeader,
  readInt32BE,
  SHORT_HEADER_BYTES,
  validateMaxFrameSize,
  writeFrameHeader,
} from "./framing.js";
export type { HandshakeDigest, HandshakeOptions } from "./handshake.js";
export {
  authenticateStream,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  MAX_HANDSHAKE_MESSAGE_BYTES,
} from "./handshake.js";
export { Inbox, MESSAGE_OVERHEAD_BYTES } from "./inbox.js";
export { processAlive, processStartTime } from "./process-alive.js";
export { ReceiveBudget } from "./receive-budget.js";
export { receiveIterator } from "./receive-iterator.js";
export { SendGate } from "./send-gate.js";
export type { Reviver, Shareable, SharedDescription } from "./shareable.js";
export { describeForChild, describeShared, isShareable, registerReviver, reviverFor } from "./shareable.js";
export type { SmallFrameReaderOptions } from "./small-frame-reader.js";
export { SmallFrameReader } from "./small-frame-reader.js";
export { PEER_EXIT_GRACE_MS } from "./stream-channel.js";
export { COALESCE_LIMIT_BYTES, WRITE_BATCH_BYTES } from "./stream-writers.js";
export { Deadline, raceTimeout, sleep } from "./timing.js";
export type { WaitLimits, WaitSettlers } from "./wait.js";
export {
  abortedError,
  cancellableWait,
  checkWaitOptions,
  timeoutError,
  validateWaitOptions,
  waitLimits,
} from "./wait.js";
export type { Waiter } from "./waiter-queue.js";
export { WaiterQueue } from "./waiter-queue.js";
