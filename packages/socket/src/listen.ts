import { createServer, type Server } from "node:net";
import { createServer as createTlsServer, type TlsOptions } from "node:tls";
import { type IpcError, IpcError as IpcErrorClass, IpcErrorCode } from "@ipc/core";
import { toIpcError } from "@ipc/core/transport";
import { nodePath, parseAddress, type SocketAddress } from "./address.js";
import type { SocketChannelOptions } from "./connect.js";
import { SocketErrorCode } from "./errors.js";
import { type SocketListener, SocketListenerImpl } from "./socket-listener.js";
import { DEFAULT_SOCKET_MODE, listenOnUnixPath } from "./unix-socket-file.js";

/** Connections the kernel queues for `accept` (the listen backlog) unless `backlog` says otherwise; Linux caps it at net.core.somaxconn. */
export const DEFAULT_BACKLOG = 4096;

/** Options for {@link listen}. */
export interface ListenOptions<T> extends SocketChannelOptions<T> {
  /** Shared secret: every client must pass Python's HMAC handshake before any message. */
  authkey?: Uint8Array | string;
  /** Milliseconds a client has to complete the handshake. @default 10000 */
  handshakeTimeout?: number;
  /**
   * Connections held at once, handshakes included. At the limit a newcomer takes the slot of the oldest
   * connection that has not authenticated (or, without an authkey, sent anything) yet; when every slot
   * is held by one that has, the newcomer is refused. Both are reported to `onConnectionError`.
   * @default 1024
   */
  maxConnections?: number;
  /**
   * Bytes all connections together may hold that the application has not received yet (buffered
   * messages and frames still arriving); a connection that would go over it is closed with
   * `ERR_IPC_LIMIT`. @default 256 MiB
   */
  maxBufferedBytes?: number;
  /** Connections the kernel queues while the listener catches up with accepting (capped by net.core.somaxconn). @default 4096 */
  backlog?: number;
  /** Mode of a Unix socket file, set at creation. @default 0o600 */
  mode?: number;
  /** TLS options for `tls://` addresses (key, cert, ca, requestCert, ...). */
  tls?: TlsOptions;
  /** Told about connections that did not become channels (wrong authkey, handshake timeout, refused) and ones evicted. */
  onConnectionError?: (error: IpcError) => void;
}

/**
 * Listens on a Unix path, a Linux abstract name, TCP or TLS (see `parseAddress`) and resolves once it
 * accepts connections. A Unix socket file is created with mode 0600, a stale one is reclaimed, and it is
 * removed on close.
 * @throws `ERR_IPC_SOCKET_ADDRESS`, `ERR_IPC_SOCKET_PATH_TOO_LONG`, `ERR_IPC_SOCKET_IN_USE`, `ERR_IPC_SYSTEM`
 */
export async function listen<T = unknown>(
  address: string,
  options: ListenOptions<T> = {},
): Promise<SocketListener<T>> {
  const parsed = parseAddress(address);
  if (parsed.kind === "tls" && options.tls === undefined) {
    throw new IpcErrorClass(
      IpcErrorCode.INVALID_ARGUMENT,
      `${address} is a TLS address: pass options.tls (key, cert, ...)`,
    );
  }
  const server = parsed.kind === "tls" ? createTlsServer(options.tls!) : createServer();
  const backlog = options.backlog ?? DEFAULT_BACKLOG;
  try {
    if (parsed.kind === "unix")
      await listenOnUnixPath(server, parsed.path, options.mode ?? DEFAULT_SOCKET_MODE, backlog);
    else await listenOn(server, parsed, backlog);
  } catch (error) {
    server.close();
    throw listenError(error, address);
  }
  return new SocketListenerImpl<T>(server, parsed, options);
}

function listenOn(server: Server, address: SocketAddress, backlog: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.once("listening", () => {
      server.off("error", reject);
      resolve();
    });
    const path = nodePath(address);
    if (path !== undefined) server.listen({ path, backlog });
    else if (address.kind === "tcp" || address.kind === "tls")
      server.listen({ host: address.host, port: address.port, backlog });
  });
}

function listenError(error: unknown, address: string): IpcError {
  const system = error as NodeJS.ErrnoException;
  if (system?.code === "EADDRINUSE") {
    return new IpcErrorClass(SocketErrorCode.IN_USE, `${address} is already in use by another server`, {
      cause: error,
      errno: "EADDRINUSE",
      syscall: system.syscall ?? "listen",
    });
  }
  const wrapped = toIpcError(error, `listen on ${address}`);
  const where = (error as { address?: unknown })?.address;
  if (wrapped.path === undefined && typeof where === "string") {
    return new IpcErrorClass(wrapped.code, wrapped.message, {
      cause: error,
      ...(wrapped.errno === undefined ? {} : { errno: wrapped.errno }),
      ...(wrapped.syscall === undefined ? {} : { syscall: wrapped.syscall }),
      path: where,
    });
  }
  return wrapped;
}
