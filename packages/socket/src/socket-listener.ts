import type { Server, Socket } from "node:net";
import {
  type Channel,
  createStreamChannel,
  type IpcError,
  IpcError as IpcErrorClass,
  IpcErrorCode,
  isIpcError,
  type Listener,
  type WaitOptions,
} from "@ipc/core";
import {
  abortedError,
  authenticateStream,
  checkWaitOptions,
  ReceiveBudget,
  raceTimeout,
  toIpcError,
  WaiterQueue,
} from "@ipc/core/transport";
import { formatAddress, type SocketAddress } from "./address.js";
import { Admission } from "./admission.js";
import { socketChannelOptions } from "./connect.js";
import type { ListenOptions } from "./listen.js";

/** Connections a listener keeps open at once unless `maxConnections` says otherwise. */
export const DEFAULT_MAX_CONNECTIONS = 1024;
/** Bytes all of a listener's connections may hold together, not yet received, unless `maxBufferedBytes` says otherwise. */
export const DEFAULT_MAX_BUFFERED_BYTES = 256 * 1024 * 1024;
/** Milliseconds a graceful `close()` lets open channels finish before closing them. */
export const DEFAULT_GRACEFUL_CLOSE_TIMEOUT_MS = 5_000;
/** Milliseconds `broadcast` waits for a client that is not reading, unless `timeout` says otherwise. */
export const DEFAULT_BROADCAST_TIMEOUT_MS = 1_000;

/** Options for a socket listener's `close()`. */
export interface ListenerCloseOptions {
  /** `false` closes every open channel at once. @default true */
  graceful?: boolean;
  /** Milliseconds a graceful close waits for channels to finish before closing them. @default 5000 */
  timeout?: number;
}

/** Options for a socket listener's `broadcast()`. */
export interface BroadcastOptions extends WaitOptions {
  /**
   * What happens to a client that has not taken the message within `timeout` ms (it is not reading):
   * `"skip"` — it misses this message (nothing was sent to it); `"drop"` — its channel is also closed.
   * @default "skip"
   */
  slow?: "skip" | "drop";
}

/** What a broadcast did. */
export interface BroadcastResult {
  /** Clients that took the message. */
  readonly sent: number;
  /** Slow clients that missed it (`slow: "skip"`), and clients whose channel refused it. */
  readonly skipped: number;
  /** Slow clients whose channel was closed (`slow: "drop"`). */
  readonly dropped: number;
}

/** A listening socket: accepted connections as channels; `for await` yields each until it closes. */
export interface SocketListener<T> extends Listener<Channel<T>> {
  /** Where clients connect, in the address syntax (with the real port when 0 was asked): `/path`, `@name`, `tcp://host:port` or `tls://host:port`. */
  readonly address: string;
  /** Channels accepted and still open. */
  readonly connections: ReadonlySet<Channel<T>>;
  /**
   * Sends `message` to every open channel at once, waiting at most `timeout` ms (1000) for each: a client
   * that is not reading misses it (`slow: "skip"`) or is closed (`"drop"`); never waits forever.
   * @throws `ERR_IPC_ABORTED` (its `signal`), `ERR_IPC_ENCODE`, `ERR_IPC_CLOSED` (the listener is closed)
   */
  broadcast(message: T, options?: BroadcastOptions): Promise<BroadcastResult>;
  /**
   * Idempotent; settles whatever the clients do. Stops accepting at once (a Unix socket file is removed);
   * a graceful close then lets open channels finish for up to `timeout` ms before closing them, an
   * immediate one closes them now.
   */
  close(options?: ListenerCloseOptions): Promise<void>;
}

/** The listener behind `listen()`. */
export class SocketListenerImpl<T> implements SocketListener<T> {
  readonly address: string;
  readonly #server: Server;
  readonly #options: ListenOptions<T>;
  readonly #open = new Set<Channel<T>>();
  readonly #ready: Channel<T>[] = [];
  readonly #waiting = new WaiterQueue<Channel<T>>();
  readonly #admission: Admission;
  readonly #budget: ReceiveBudget;
  #closing: Promise<void> | undefined;

  constructor(server: Server, address: SocketAddress, options: ListenOptions<T>) {
    this.#server = server;
    this.#options = options;
    this.address = formatAddress(boundAddress(server, address));
    this.#admission = new Admission(options.maxConnections ?? DEFAULT_MAX_CONNECTIONS, (error) =>
      options.onConnectionError?.(error),
    );
    this.#budget = new ReceiveBudget(options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES);
    const event = address.kind === "tls" ? "secureConnection" : "connection";
    server.on(event, (socket: Socket) => void this.#admit(socket));
    // Errors on accepted sockets surface on their channels; a server error after listen is reported here.
    server.on("error", (error) => this.#options.onConnectionError?.(toIpcError(error, "listener")));
  }

  get connections(): ReadonlySet<Channel<T>> {
    return this.#open;
  }

  accept(options?: WaitOptions): Promise<Channel<T>> {
    const ready = this.#ready.shift();
    if (ready) return Promise.resolve(ready);
    if (this.#closing) return Promise.reject(closedError());
    return this.#waiting.wait("accept", options, undefined);
  }

  async broadcast(message: T, options: BroadcastOptions = {}): Promise<BroadcastResult> {
    checkWaitOptions(options, "broadcast");
    if (this.#closing) throw closedError();
    const timeout = options.timeout ?? DEFAULT_BROADCAST_TIMEOUT_MS;
    const slow = options.slow ?? "skip";
    let sent = 0;
    let skipped = 0;
    let dropped = 0;
    await Promise.all(
      [...this.#open].map(async (channel) => {
        try {
          await channel.send(message, { timeout, signal: options.signal });
          sent += 1;
        } catch (error) {
          if (isIpcError(error, IpcErrorCode.ENCODE) || isIpcError(error, IpcErrorCode.FRAME_TOO_LARGE))
            throw error;
          if (isIpcError(error, IpcErrorCode.TIMEOUT) && slow === "drop") {
            dropped += 1;
            void channel.close({ timeout: 0 });
          } else if (!isIpcError(error, IpcErrorCode.ABORTED)) {
            skipped += 1;
          }
        }
      }),
    );
    if (options.signal?.aborted) throw abortedError("broadcast", options.signal);
    return { sent, skipped, dropped };
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

  close(options: ListenerCloseOptions = {}): Promise<void> {
    this.#closing ??= this.#close(options);
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #close(options: ListenerCloseOptions): Promise<void> {
    // The listening handle closes now (the address is free, a socket file is gone); Node's callback would
    // also wait for every accepted connection, which is not this listener's business any more.
    this.#server.close();
    this.#waiting.rejectAll(closedError());
    for (const channel of this.#ready.splice(0)) void channel.close();
    const open = [...this.#open];
    if (options.graceful !== false && open.length > 0) {
      const timeout = options.timeout ?? DEFAULT_GRACEFUL_CLOSE_TIMEOUT_MS;
      await raceTimeout(Promise.all(open.map((channel) => channel.closed)), timeout, undefined);
    }
    await Promise.all([...this.#open].map((channel) => channel.close({ timeout: 1000 })));
  }

  async #admit(socket: Socket): Promise<void> {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    if (!this.#admission.admit(socket)) return;
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
        if (!socket.destroyed || !isIpcError(error, IpcErrorCode.PEER_GONE)) {
          options.onConnectionError?.(toIpcError(error, "authkey handshake"));
        }
        socket.destroy();
        return;
      }
      if (this.#closing) {
        socket.destroy();
        return;
      }
      this.#admission.prove(socket);
    }
    const channel = createStreamChannel<T>(socket, {
      ...socketChannelOptions(options),
      receiveBudget: this.#budget,
    });
    // Without an authkey, a connection proves itself by sending something.
    if (options.authkey === undefined) socket.once("data", () => this.#admission.prove(socket));
    this.#open.add(channel);
    void channel.closed.then(() => this.#open.delete(channel));
    if (!this.#waiting.resolveNext(channel)) this.#ready.push(channel);
  }
}

function boundAddress(server: Server, address: SocketAddress): SocketAddress {
  const bound = server.address();
  if ((address.kind === "tcp" || address.kind === "tls") && bound !== null && typeof bound === "object") {
    return { ...address, port: bound.port };
  }
  return address;
}

function closedError(): IpcError {
  return new IpcErrorClass(IpcErrorCode.CLOSED, "the listener is closed");
}
