import { createServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, type TlsOptions } from "node:tls";
import {
  type Channel,
  createStreamChannel,
  type IpcError,
  IpcError as IpcErrorClass,
  IpcErrorCode,
  type Listener,
  type SendOptions,
  type WaitOptions,
} from "@ipc/core";
import { authenticateStream, raceTimeout, toIpcError, WaiterQueue } from "@ipc/core/transport";
import { formatAddress, nodePath, parseAddress, type SocketAddress } from "./address.js";
import { type SocketChannelOptions, socketChannelOptions } from "./connect.js";
import { SocketErrorCode } from "./errors.js";
import { DEFAULT_SOCKET_MODE, listenOnUnixPath } from "./unix-socket-file.js";

/** Connections a listener keeps open at once unless `maxConnections` says otherwise. */
export const DEFAULT_MAX_CONNECTIONS = 1024;
/** Milliseconds a graceful `close()` lets open channels finish before closing them. */
export const DEFAULT_GRACEFUL_CLOSE_TIMEOUT_MS = 5_000;

/** Options for {@link listen}. */
export interface ListenOptions<T> extends SocketChannelOptions<T> {
  /** Shared secret: every client must pass Python's HMAC handshake before any message. */
  authkey?: Uint8Array | string;
  /** Milliseconds a client has to complete the handshake. @default 10000 */
  handshakeTimeout?: number;
  /** Open connections at most; more are refused at once. @default 1024 */
  maxConnections?: number;
  /** Mode of a Unix socket file, set at creation. @default 0o600 */
  mode?: number;
  /** TLS options for `tls://` addresses (key, cert, ca, requestCert, ...). */
  tls?: TlsOptions;
  /** Told about connections that failed before becoming channels (wrong authkey, handshake timeout). */
  onConnectionError?: (error: IpcError) => void;
}

/** Options for a socket listener's `close()`. */
export interface ListenerCloseOptions {
  /** `false` closes every open channel at once. @default true */
  graceful?: boolean;
  /** Milliseconds a graceful close waits for channels to finish before closing them. @default 5000 */
  timeout?: number;
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
  server.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  try {
    if (parsed.kind === "unix")
      await listenOnUnixPath(server, parsed.path, options.mode ?? DEFAULT_SOCKET_MODE);
    else await listenOn(server, parsed);
  } catch (error) {
    server.close();
    throw listenError(error, address);
  }
  return new Listening<T>(server, parsed, options);
}

/** A listening socket: accepted connections as channels; `for await` yields each until it closes. */
export interface SocketListener<T> extends Listener<Channel<T>> {
  /** Where clients connect, in the address syntax (with the real port when 0 was asked). */
  readonly address: string;
  /** Channels accepted and still open. */
  readonly connections: ReadonlySet<Channel<T>>;
  /** Sends `message` to every open channel; resolves with how many accepted it (closed ones are skipped). */
  broadcast(message: T, options?: SendOptions): Promise<number>;
  /**
   * Idempotent. Stops accepting at once (a Unix socket file is removed); a graceful close then lets open
   * channels finish for up to `timeout` ms before closing them, an immediate one closes them now.
   */
  close(options?: ListenerCloseOptions): Promise<void>;
}

class Listening<T> implements SocketListener<T> {
  /** Where clients connect, in the address syntax (with the real port when 0 was asked). */
  readonly address: string;
  readonly #server: Server;
  readonly #options: ListenOptions<T>;
  readonly #open = new Set<Channel<T>>();
  readonly #ready: Channel<T>[] = [];
  readonly #waiting = new WaiterQueue<Channel<T>>();
  #closing: Promise<void> | undefined;

  constructor(server: Server, address: SocketAddress, options: ListenOptions<T>) {
    this.#server = server;
    this.#options = options;
    this.address = formatAddress(boundAddress(server, address));
    const event = address.kind === "tls" ? "secureConnection" : "connection";
    server.on(event, (socket: Socket) => void this.#admit(socket));
    // Errors on accepted sockets surface on their channels; a server error after listen is reported here.
    server.on("error", (error) => this.#options.onConnectionError?.(toIpcError(error, "listener")));
  }

  get connections(): ReadonlySet<Channel<T>> {
    return this.#open;
  }

  /** The next connected, authenticated client. @throws `ERR_IPC_CLOSED` once the listener is closed */
  accept(options?: WaitOptions): Promise<Channel<T>> {
    const ready = this.#ready.shift();
    if (ready) return Promise.resolve(ready);
    if (this.#closing) return Promise.reject(closedError());
    return this.#waiting.wait("accept", options, undefined);
  }

  /** Sends `message` to every open channel; resolves with how many accepted it (closed ones are skipped). */
  async broadcast(message: T, options?: SendOptions): Promise<number> {
    const results = await Promise.allSettled(
      [...this.#open].map((channel) => channel.send(message, options)),
    );
    return results.filter((result) => result.status === "fulfilled").length;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Channel<T>> {
    for (;;) {
      try {
        yield await this.accept();
      } catch (error) {
        if ((error as IpcError).code === IpcErrorCode.CLOSED) return;
        throw error;
      }
    }
  }

  /**
   * Idempotent. Stops accepting at once (a Unix socket file is removed); a graceful close then lets open
   * channels finish for up to `timeout` ms before closing them, an immediate one closes them now.
   */
  close(options: ListenerCloseOptions = {}): Promise<void> {
    this.#closing ??= this.#close(options);
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #close(options: ListenerCloseOptions): Promise<void> {
    const stopped = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#waiting.rejectAll(closedError());
    for (const channel of this.#ready.splice(0)) void channel.close();
    const open = [...this.#open];
    if (options.graceful !== false && open.length > 0) {
      const timeout = options.timeout ?? DEFAULT_GRACEFUL_CLOSE_TIMEOUT_MS;
      await raceTimeout(Promise.all(open.map((channel) => channel.closed)), timeout, undefined);
    }
    await Promise.all([...this.#open].map((channel) => channel.close({ timeout: 1000 })));
    await stopped;
  }

  async #admit(socket: Socket): Promise<void> {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    if ("setNoDelay" in socket && socket.remoteAddress !== undefined) socket.setNoDelay(true);
    const options = this.#options;
    if (options.authkey !== undefined) {
      try {
        await authenticateStream(socket, {
          authkey: options.authkey,
          role: "server",
          ...(options.handshakeTimeout === undefined ? {} : { timeout: options.handshakeTimeout }),
        });
      } catch (error) {
        options.onConnectionError?.(toIpcError(error, "authkey handshake"));
        return;
      }
      if (this.#closing) {
        socket.destroy();
        return;
      }
    }
    const channel = createStreamChannel<T>(socket, socketChannelOptions(options));
    this.#open.add(channel);
    void channel.closed.then(() => this.#open.delete(channel));
    if (!this.#waiting.resolveNext(channel)) this.#ready.push(channel);
  }
}

function listenOn(server: Server, address: SocketAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.once("listening", () => {
      server.off("error", reject);
      resolve();
    });
    const path = nodePath(address);
    if (path !== undefined) server.listen(path);
    else if (address.kind === "tcp" || address.kind === "tls")
      server.listen({ host: address.host, port: address.port });
  });
}

function boundAddress(server: Server, address: SocketAddress): SocketAddress {
  const bound = server.address();
  if ((address.kind === "tcp" || address.kind === "tls") && bound !== null && typeof bound === "object") {
    return { ...address, port: bound.port };
  }
  return address;
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

function closedError(): IpcError {
  return new IpcErrorClass(IpcErrorCode.CLOSED, "the listener is closed");
}
