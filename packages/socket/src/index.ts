export type { SocketAddress } from "./address.js";
export { formatAddress, MAX_UNIX_PATH_BYTES, parseAddress } from "./address.js";
export type { ConnectOptions } from "./connect.js";
export { connect, DEFAULT_CONNECT_TIMEOUT_MS } from "./connect.js";
export type { SocketErrorCodeString } from "./errors.js";
export { SocketErrorCode } from "./errors.js";
export type { ListenerCloseOptions, ListenOptions } from "./listen.js";
export {
  DEFAULT_GRACEFUL_CLOSE_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  listen,
  SocketListener,
} from "./listen.js";
export type {
  ConnectionState,
  ReconnectingChannel,
  ReconnectingOptions,
  ReconnectOptions,
  SendQueueOptions,
} from "./reconnecting-channel.js";
export { backoff, connectWithRetry } from "./reconnecting-channel.js";
export { DEFAULT_SOCKET_MODE } from "./unix-socket-file.js";
