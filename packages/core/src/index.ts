// @ipc/core for users: the contract, codecs, errors and the channel factories. Transport authors find
// the machinery in "@ipc/core/transport".

export { DEFAULT_CLOSE_TIMEOUT_MS } from "./base-channel.js";
export type {
  Channel,
  ChannelDirection,
  ChannelEnd,
  ChannelOptions,
  ChannelState,
  CloseInfo,
  CloseOptions,
  FlushOptions,
  Listener,
  ReceiveOptions,
  Receiver,
  Sender,
  SendOptions,
} from "./channel.js";
export type { Codec } from "./codec.js";
export { bytes } from "./codecs/bytes.js";
export type { JsonValue } from "./codecs/json.js";
export { json } from "./codecs/json.js";
export { v8 } from "./codecs/v8.js";
export { DirectReads } from "./direct-reads.js";
export type { IpcErrorDetails } from "./errors.js";
export { IpcError, IpcErrorCode, isIpcError } from "./errors.js";
export { DEFAULT_MAX_FRAME_SIZE_BYTES } from "./framing.js";
export { DEFAULT_RECEIVE_HIGH_WATER_MARK_BYTES } from "./inbox.js";
export { joinChannels } from "./joined-channel.js";
export type { CreateMemoryChannelPairOptions } from "./memory-channel.js";
export { createMemoryChannelPair } from "./memory-channel.js";
export type { CreateStreamChannelOptions, PeerLife } from "./stream-channel.js";
export { createStreamChannel } from "./stream-channel.js";
export type { WaitOptions } from "./wait.js";
