import { connect as netConnect, type Socket } from "node:net";
import { type ConnectionOptions, connect as tlsConnect } from "node:tls";
import {
  type Channel,
  type ChannelOptions,
  createStreamChannel,
  DirectReads,
  IpcError,
  type WaitOptions,
} from "@ipc/core";
import { authenticateStream, cancellableWait, Deadline } from "@ipc/core/transport";
import { nodePath, parseAddress, type SocketAddress } from "./address.js";
import { SocketErrorCode } from "./errors.js";

/** Milliseconds `connect` waits for the connection (and handshake) unless `timeout` says otherwise. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** The channel options of a socket's channels, on either side. */
export interface SocketChannelOptions<T> extends ChannelOptions<T> {
  /** Milliseconds the peer may send nothing before its channel fails with `ERR_IPC_PEER_GONE` (half-open connections). Off by default. */
  idleTimeout?: number | undefined;
}

/** Options for {@link connect}. */
export interface ConnectOptions<T> extends SocketChannelOptions<T>, WaitOptions {
  /** Shared secret for Python's HMAC handshake, run before any message. */
  authkey?: Uint8Array | string | undefined;
  /** TLS options for `tls://` addresses (ca, servername, ...). */
  tls?: ConnectionOptions | undefined;
  /** TCP keep-alive probes after this many idle milliseconds, so the kernel notices a dead peer. */
  keepAlive?: number | undefined;
}

/** The channel options in `options`, for `createStreamChannel`. */
export function socketChannelOptions<T>(options: SocketChannelOptions<T>): SocketChannelOptions<T> {
  return {
    codec: options.codec,
    maxFrameSize: options.maxFrameSize,
    idleTimeout: options.idleTimeout,
    receiveHighWaterMark: options.receiveHighWaterMark,
  };
}

/**
 * Connects to a listener (ours or Python's `multiprocessing.connection.Listener`) and resolves with the
 * channel, after the authkey handshake when `authkey` is given. `timeout` (10 s) covers both.
 * @throws `ERR_IPC_SOCKET_CONNECT` (errno says why), `ERR_IPC_AUTH`, `ERR_IPC_TIMEOUT`, `ERR_IPC_ABORTED`,
 * `ERR_IPC_SOCKET_ADDRESS`, `ERR_IPC_SOCKET_PATH_TOO_LONG`
 */
export async function connect<T = unknown>(
  address: string,
  options: ConnectOptions<T> = {},
): Promise<Channel<T>> {
  const parsed = parseAddress(address);
  const timeout = options.timeout ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const deadline = new Deadline(timeout);
  // Read straight into large messages, unless a handshake reads first or TLS decrypts in between.
  const reads = options.authkey === undefined && parsed.kind !== "tls" ? new DirectReads() : undefined;
  const socket = await openSocket(parsed, address, options, timeout, reads);
  if (options.authkey !== undefined) {
    await authenticateStream(socket, {
      authkey: options.authkey,
      role: "client",
      timeout: Math.max(1, deadline.remaining() ?? timeout),
      signal: options.signal,
    });
  }
  return createStreamChannel<T>(socket, { ...socketChannelOptions(options), directReads: reads });
}

function openSocket(
  address: SocketAddress,
  text: string,
  options: ConnectOptions<unknown>,
  timeout: number,
  reads: DirectReads | undefined,
): Promise<Socket> {
  return cancellableWait<Socket>(`connect to ${text}`, { timeout, signal: options.signal }, (settlers) => {
    const path = nodePath(address);
    const tcp = address.kind === "tcp" || address.kind === "tls" ? address : undefined;
    let socket: Socket;
    let retry: NodeJS.Timeout | undefined;
    let pause = 1;
    const onread = reads === undefined ? {} : { onread: reads.onread };
    const attempt = () => {
      socket =
        address.kind === "tls"
          ? tlsConnect({ host: tcp!.host, port: tcp!.port, servername: tcp!.host, ...options.tls })
          : path !== undefined
            ? netConnect({ path, ...onread })
            : netConnect({ host: tcp!.host, port: tcp!.port, ...onread });
      const ready = address.kind === "tls" ? "secureConnect" : "connect";
      const onError = (error: NodeJS.ErrnoException) => {
        // A Unix listener whose backlog is full refuses with EAGAIN for now, not for good: try again
        // (backing off up to 50 ms) until the timeout.
        if (error.code === "EAGAIN") {
          socket.destroy();
          retry = setTimeout(attempt, pause);
          pause = Math.min(MAX_RETRY_PAUSE_MS, pause * 2);
          return;
        }
        settlers.reject(connectError(error, text, path !== undefined));
      };
      socket.once("error", onError);
      socket.once(ready, () => {
        socket.off("error", onError);
        if (tcp) socket.setNoDelay(true);
        if (tcp && options.keepAlive !== undefined) socket.setKeepAlive(true, options.keepAlive);
        settlers.resolve(socket);
      });
    };
    attempt();
    return () => {
      clearTimeout(retry);
      socket.destroy();
    };
  });
}

/** Longest pause between attempts while a Unix listener's backlog is full. */
const MAX_RETRY_PAUSE_MS = 50;

function connectError(error: NodeJS.ErrnoException, text: string, unix: boolean): IpcError {
  return new IpcError(
    SocketErrorCode.CONNECT,
    `could not connect to ${text} (${error.code ?? error.message}); ${hint(error.code)}`,
    {
      cause: error,
      ...(error.code === undefined ? {} : { errno: error.code }),
      syscall: error.syscall ?? "connect",
      ...(unix ? { path: text } : {}),
    },
  );
}

function hint(errno: string | undefined): string {
  switch (errno) {
    case "ECONNREFUSED":
      return "nothing is listening there: start the server first, or check the port";
    case "ENOENT":
      return "the socket file does not exist: start the server first, or check the path";
    case "EACCES":
      return "permission denied: socket files are private to their owner by default";
    default:
      return "check the address and that the server is running";
  }
}
