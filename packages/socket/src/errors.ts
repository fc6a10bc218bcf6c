/** Error codes of @ipc/socket, beside @ipc/core's (`ERR_IPC_AUTH`, `ERR_IPC_PEER_GONE`, ...). */
export const SocketErrorCode = {
  /** The address string cannot be parsed; the message shows the accepted forms. */
  ADDRESS: "ERR_IPC_SOCKET_ADDRESS",
  /** A Unix socket path is longer than the platform allows (107 bytes on Linux, 103 on macOS). */
  PATH_TOO_LONG: "ERR_IPC_SOCKET_PATH_TOO_LONG",
  /** The address is taken: a live server answers there, or the path exists and is not a socket. */
  IN_USE: "ERR_IPC_SOCKET_IN_USE",
  /** Connecting failed (`errno`: ECONNREFUSED, ENOENT, EHOSTUNREACH, ...). */
  CONNECT: "ERR_IPC_SOCKET_CONNECT",
  /** A reconnecting client's queue of messages sent while disconnected is full (`whenFull: "fail"`). */
  QUEUE_FULL: "ERR_IPC_SOCKET_QUEUE_FULL",
  /** A reconnecting client gave up after `maxAttempts`. */
  GAVE_UP: "ERR_IPC_SOCKET_GAVE_UP",
  /** A listener refused a connection: every slot (`maxConnections`) is held by proven connections (reported to `onConnectionError`). */
  REFUSED: "ERR_IPC_SOCKET_REFUSED",
  /** A listener closed a connection that had not proven itself, to make room for a new one (reported to `onConnectionError`). */
  EVICTED: "ERR_IPC_SOCKET_EVICTED",
} as const;

/** A code defined by @ipc/socket. */
export type SocketErrorCode = (typeof SocketErrorCode)[keyof typeof SocketErrorCode];
