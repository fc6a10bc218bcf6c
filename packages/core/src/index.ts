export type { BaseChannelOptions, ChannelDirection } from "./base-channel.js";
export { BaseChannel, DEFAULT_CLOSE_TIMEOUT_MS } from "./base-channel.js";
export type {
  Channel,
  ChannelEnd,
  ChannelOptions,
  ChannelState,
  CloseInfo,
  CloseOptions,
  Listener,
  ReceiveOptions,
  Receiver,
  Sender,
  SendOptions,
} from "./channel.js";
export type { Codec } from "./codec.js";
export { decodeWith, encodeWith } from "./codec.js";
export { bytes } from "./codecs/bytes.js";
export type { JsonValue } from "./codecs/json.js";
export { json } from "./codecs/json.js";
export { v8 } from "./codecs/v8.js";
export type { CoreErrorCode, IpcErrorCodeString, IpcErrorDetails } from "./errors.js";
export { IpcError, IpcErrorCode, isIpcError, toIpcError } from "./errors.js";
export {
  checkFrameSize,
  DEFAULT_MAX_FRAME_SIZE_BYTES,
  encodeFrameHeader,
  FrameDecoder,
  frameHeaderSize,
  MAX_SHORT_FRAME_PAYLOAD_BYTES,
  validateMaxFrameSize,
  writeFrameHeader,
} from "./framing.js";
export type { HandshakeDigest, HandshakeOptions } from "./handshake.js";
export {
  authenticateStream,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  MAX_HANDSHAKE_MESSAGE_BYTES,
} from "./handshake.js";
export { DEFAULT_RECEIVE_HIGH_WATER_MARK_BYTES, Inbox } from "./inbox.js";
export { joinChannels } from "./joined-channel.js";
export type { MemoryChannelOptions } from "./memory-channel.js";
export { createMemoryChannelPair } from "./memory-channel.js";
export { processAlive, processStartTime } from "./process-alive.js";
export { receiveIterator } from "./receive-iterator.js";
export { SendGate } from "./send-gate.js";
export type { SmallFrameReaderOptions } from "./small-frame-reader.js";
export { SmallFrameReader } from "./small-frame-reader.js";
export type { PeerLife, StreamChannelOptions } from "./stream-channel.js";
export {
  COALESCE_LIMIT_BYTES,
  createStreamChannel,
  PEER_EXIT_GRACE_MS,
  WRITE_BATCH_BYTES,
} from "./stream-channel.js";
export type { WaitLimits, WaitOptions, WaitSettlers } from "./wait.js";
export {
  abortedError,
  cancellableWait,
  checkWaitOptions,
  timeoutError,
  validateWaitOptions,
  waitLimits,
} from "./wait.js";
