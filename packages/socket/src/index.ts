export type { SocketAddress } from "./address.js";
export { formatAddress, MAX_UNIX_PATH_BYTES, parseAddress } from "./address.js";
export type { ReconnectOptions } from "./backoff.js";
export { DEFAULT_PROBATION_MS } from "./backoff.js";
export type { ConnectOptions, SocketChannelOptions } from "./connect.js";
export { connect, DEFAULT_CONNECT_TIMEOUT_MS } from "./connect.js";
export { SocketErrorCode } from "./errors.js";
export type { ListenOptions } from "./listen.js";
export { DEFAULT_BACKLOG, listen } from "./listen.js";
export type {
  ConnectionState,
  ConnectReconnectingOptions,
  ReconnectingChannel,
  SendQueueOptions,
} from "./reconnecting-channel.js";
export { connectReconnecting, DEFAULT_QUEUE_MESSAGES } from "./reconnecting-channel.js";
export type {
  BroadcastOptions,
  BroadcastResult,
  ListenerCloseOptions,
  SocketListener,
} from "./socket-listener.js";
export {
  DEFAULT_BROADCAST_TIMEOUT_MS,
  DEFAULT_GRACEFUL_CLOSE_TIMEOUT_MS,
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_MAX_CONNECTIONS,
} from "./socket-listener.js";
export { DEFAULT_SOCKET_MODE } from "./unix-socket-file.js";
