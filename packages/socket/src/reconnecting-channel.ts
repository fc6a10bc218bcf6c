import {
  bytes,
  type Channel,
  type CloseOptions,
  type Codec,
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_MAX_FRAME_SIZE_BYTES,
  DEFAULT_RECEIVE_HIGH_WATER_MARK_BYTES,
  type FlushOptions,
  type IpcError,
  IpcError as IpcErrorClass,
  IpcErrorCode,
  isIpcError,
  json,
  type ReceiveOptions,
  type SendOptions,
} from "@ipc/core";
import {
  ClosableEnd,
  checkFrameSize,
  checkWaitOptions,
  Deadline,
  encodeWith,
  Inbox,
  raceTimeout,
  sleep,
  validateMaxFrameSize,
  WaiterQueue,
} from "@ipc/core/transport";
import { backoff, DEFAULT_PROBATION_MS, type ReconnectOptions } from "./backoff.js";
import { type ConnectOptions, connect } from "./connect.js";
import { SocketErrorCode } from "./errors.js";

/** Messages a reconnecting client holds while disconnected unless `queue.maxMessages` says otherwise. */
export const DEFAULT_QUEUE_MESSAGES = 1000;

/** The bounded queue of messages sent while disconnected. */
export interface SendQueueOptions {
  /** Messages held while disconnected. @default 1000 */
  maxMessages?: number;
  /** When it is full, `send` waits for room (`"wait"`) or rejects with `ERR_IPC_SOCKET_QUEUE_FULL`. @default "wait" */
  whenFull?: "wait" | "fail";
}

/** Options for {@link connectReconnecting}. */
export interface ConnectReconnectingOptions<T> extends Omit<ConnectOptions<T>, "signal"> {
  reconnect?: ReconnectOptions;
  queue?: SendQueueOptions;
  /** Closes the client (and stops reconnecting) when it aborts. */
  signal?: AbortSignal;
  /** Told of every change of the connection's state. */
  onConnectionChange?: (state: ConnectionState, error?: IpcError) => void;
}

/** Where a reconnecting client stands. */
export type ConnectionState = "connecting" | "connected" | "reconnecting" | "closed";

/** A {@link Channel} that survives dropped connections (see {@link connectReconnecting}). */
export interface ReconnectingChannel<T> extends Channel<T> {
  /** The connection's state now. */
  readonly connection: ConnectionState;
  /** Messages sent while disconnected, waiting to go out. */
  readonly queued: number;
}

/**
 * A client that connects in the background and reconnects whenever the connection drops, with
 * exponential backoff and jitter. `send` never fails because of a dropped connection: while
 * disconnected (or while a new connection is on probation), messages wait, encoded, in a bounded queue
 * and go out in order once a connection has proven itself. `receive` and iteration carry on across
 * reconnections, after every message the last connection delivered. A protocol error from the server
 * (or a wrong authkey) ends the client: reconnecting would not mend it. See the README for what can be lost.
 */
export function connectReconnecting<T = unknown>(
  address: string,
  options: ConnectReconnectingOptions<T> = {},
): ReconnectingChannel<T> {
  return new ReconnectingSocketChannel<T>(address, options);
}

/** Errors after which reconnecting would only repeat the failure. */
const FATAL_CODES = new Set<string>([IpcErrorCode.PROTOCOL, IpcErrorCode.FRAME_TOO_LARGE, IpcErrorCode.AUTH]);

// Connections carry encoded payloads (the `bytes` codec): the client encodes when `send` is called, so an
// encoding error or an oversize message fails that send, and a queued message is a copy the caller cannot
// change; it decodes as messages are received.
type Connection = Channel<Uint8Array>;

class ReconnectingSocketChannel<T> extends ClosableEnd implements ReconnectingChannel<T> {
  readonly #address: string;
  readonly #options: ConnectReconnectingOptions<T>;
  readonly #codec: Codec<T>;
  readonly #maxFrameSize: number;
  readonly #queue: Uint8Array[] = [];
  readonly #maxQueued: number;
  readonly #roomWaiters = new WaiterQueue<void>();
  /** Every connection's messages, in order, for `receive` and iteration (backpressure stops the pump). */
  readonly #inbox: Inbox<T>;
  /** Connections' messages are pumped into the inbox one connection after another, so order is kept. */
  #pumping: Promise<void> = Promise.resolve();
  #wakePump: (() => void) | undefined;
  /** Resolves flushes once the queue has been handed to a connection. */
  readonly #drainedWaiters = new WaiterQueue<void>();
  readonly #stop = new AbortController();
  /** The connection in use: established (past probation) and open. */
  #current: Connection | undefined;
  /** Every connection not yet closed by this client (the current one, and ones still being pumped). */
  readonly #connections = new Set<Connection>();
  #connection: ConnectionState = "connecting";
  #flushing = false;
  /** Set when the client ended by itself (gave up, or a fatal error): every operation refuses with it. */
  #failure: IpcError | undefined;

  constructor(address: string, options: ConnectReconnectingOptions<T>) {
    super();
    this.#address = address;
    this.#options = options;
    this.#codec = options.codec ?? (json as Codec<T>);
    this.#maxFrameSize = validateMaxFrameSize(options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE_BYTES);
    this.#maxQueued = options.queue?.maxMessages ?? DEFAULT_QUEUE_MESSAGES;
    this.#inbox = new Inbox(
      this.#codec,
      options.receiveHighWaterMark ?? DEFAULT_RECEIVE_HIGH_WATER_MARK_BYTES,
    );
    this.#inbox.onSpace = () => this.#wakePump?.();
    options.signal?.addEventListener("abort", () => void this.close(), { once: true });
    void this.#run();
  }

  get connection(): ConnectionState {
    return this.#connection;
  }

  get queued(): number {
    return this.#queue.length;
  }

  async send(message: T, options?: SendOptions): Promise<void> {
    checkWaitOptions(options, "send");
    this.#checkUsable("send");
    let payload = encodeWith(this.#codec, message);
    checkFrameSize(payload.byteLength, this.#maxFrameSize, "send would write");
    const current = this.#current;
    if (current !== undefined && this.#queue.length === 0 && !this.#flushing) {
      try {
        return await current.send(payload, options);
      } catch (error) {
        // A send the dropped connection refused sent nothing: it joins the queue instead.
        if (!this.#isConnectionLoss(error, current)) throw error;
      }
    }
    if (this.#codec.borrowsInput) payload = payload.slice();
    await this.#enqueue(payload, options);
  }

  async flush(options?: FlushOptions): Promise<void> {
    checkWaitOptions(options, "flush");
    this.#checkUsable("flush");
    const deadline = new Deadline(options?.timeout);
    if (this.#queue.length > 0 || this.#flushing) {
      await this.#drainedWaiters.wait("flush (waiting for a connection)", options, undefined);
    }
    await this.#current?.flush(deadline.options(options?.signal));
  }

  receive(options?: ReceiveOptions): Promise<T> {
    return this.#inbox.receive(options);
  }

  /** Breaking out of `for await` does not close the client. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => this.#inbox.take(undefined),
      return: async () => ({ done: true, value: undefined }),
    };
  }

  protected async closeEnd(options: CloseOptions): Promise<void> {
    const timeout = options.timeout ?? DEFAULT_CLOSE_TIMEOUT_MS;
    // What is queued goes out on the next connection if one comes up in time; the rest is dropped.
    if ((this.#queue.length > 0 || this.#flushing) && this.#failure === undefined) {
      await this.#drainedWaiters.wait("close (flushing the queue)", { timeout }, undefined).catch(() => {});
    }
    this.#end(this.#failure ?? this.closedError("an operation"));
    this.#inbox.close();
    this.#setConnection("closed");
    await Promise.all([...this.#connections].map((channel) => channel.close(options)));
  }

  /** Stops reconnecting and refuses every waiter with `error`. */
  #end(error: IpcError): void {
    this.#stop.abort();
    this.#queue.length = 0;
    this.#roomWaiters.rejectAll(error);
    this.#drainedWaiters.rejectAll(error);
  }

  /** Ends the client by itself: gave up, or a fatal error from the server. */
  #fail(error: IpcError): void {
    if (this.#failure !== undefined || this.closedLocally) return;
    this.#failure = error;
    this.#end(error);
    this.#setConnection("closed", error);
    this.#inbox.end(error);
    this.ended({ initiator: "error", error });
  }

  /** @throws what a send or flush now must fail with: `ERR_IPC_CLOSED` after `close()`, or why the client ended */
  #checkUsable(what: string): void {
    if (this.closedLocally) throw this.closedError(what);
    if (this.#failure !== undefined) throw this.#failure;
  }

  async #run(): Promise<void> {
    const reconnect = this.#options.reconnect ?? {};
    const maxAttempts = reconnect.maxAttempts ?? Number.POSITIVE_INFINITY;
    const probation = reconnect.probation ?? DEFAULT_PROBATION_MS;
    const { reconnect: _r, queue: _q, signal: _s, onConnectionChange: _o, ...connectOptions } = this.#options;
    let failures = 0;
    while (!this.#stop.signal.aborted) {
      let lastError: IpcError | undefined;
      try {
        const channel = await connect<Uint8Array>(this.#address, {
          ...connectOptions,
          codec: bytes,
          signal: this.#stop.signal,
        });
        // Messages it delivers are readable at once; sends wait while it is on probation: a connection that
        // closes at once (a server at its limit) counts as a failed attempt and has taken nothing.
        this.#connections.add(channel);
        const pumped = this.#pump(channel);
        const early = await raceTimeout(channel.closed, probation, undefined);
        if (this.#stop.signal.aborted) return;
        if (early === undefined) {
          failures = 0;
          await this.#serve(channel);
          await pumped;
          if (this.#failure !== undefined || this.#stop.signal.aborted) return;
          this.#setConnection("reconnecting", (await channel.closed).error);
          continue;
        }
        await pumped;
        if (this.#failure !== undefined) return;
        lastError = early.error ?? connectionLost(this.#address, "was closed by the server at once");
      } catch (error) {
        if (this.#stop.signal.aborted) return;
        lastError = error as IpcError;
      }
      if (lastError !== undefined && FATAL_CODES.has(lastError.code)) {
        this.#fail(lastError);
        return;
      }
      failures += 1;
      if (failures >= maxAttempts) {
        this.#fail(
          new IpcErrorClass(
            SocketErrorCode.GAVE_UP,
            `gave up reconnecting to ${this.#address} after ${failures} failed attempts (last: ${lastError?.message ?? "unknown"}); ${this.#queue.length} queued message(s) were dropped`,
            { cause: lastError },
          ),
        );
        return;
      }
      this.#setConnection("reconnecting", lastError);
      await sleep(backoff(failures, reconnect), this.#stop.signal);
    }
  }

  /** Sends through an established connection until it closes. */
  async #serve(channel: Connection): Promise<void> {
    this.#current = channel;
    this.#setConnection("connected");
    await this.#flushQueue(channel).catch(() => undefined);
    await channel.closed;
    if (this.#current === channel) this.#current = undefined;
  }

  /**
   * Moves `channel`'s messages into the inbox, after those of earlier connections, pausing while the inbox
   * is full; a fatal error from the server ends the client once the messages before it are in.
   */
  #pump(channel: Connection): Promise<void> {
    const previous = this.#pumping;
    this.#pumping = (async () => {
      await previous;
      try {
        for (;;) {
          while (this.#inbox.full && !this.#stop.signal.aborted) {
            await new Promise<void>((resolve) => {
              this.#wakePump = resolve;
            });
          }
          this.#inbox.push(await channel.receive());
        }
      } catch (error) {
        if (isIpcError(error) && FATAL_CODES.has(error.code)) this.#fail(error);
      } finally {
        this.#connections.delete(channel);
      }
    })();
    return this.#pumping;
  }

  /** Sends the queue in order on `channel`; stops (keeping the rest) if the connection drops. */
  async #flushQueue(channel: Connection): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      while (this.#queue.length > 0 && this.#current === channel) {
        await channel.send(this.#queue[0]!);
        this.#queue.shift();
        this.#roomWaiters.resolveNext();
      }
    } finally {
      this.#flushing = false;
      if (this.#queue.length === 0) this.#drainedWaiters.resolveAll();
    }
  }

  async #enqueue(payload: Uint8Array, options: SendOptions | undefined): Promise<void> {
    while (this.#queue.length >= this.#maxQueued) {
      if (this.#options.queue?.whenFull === "fail") {
        throw new IpcErrorClass(
          SocketErrorCode.QUEUE_FULL,
          `${this.#maxQueued} messages are already waiting for the connection to ${this.#address}; raise queue.maxMessages or use whenFull: "wait"`,
        );
      }
      await this.#roomWaiters.wait("send (waiting for room in the reconnect queue)", options, undefined);
      this.#checkUsable("send");
    }
    this.#queue.push(payload);
    const current = this.#current;
    if (current !== undefined) void this.#flushQueue(current).catch(() => undefined);
  }

  #isConnectionLoss(error: unknown, channel: Connection): boolean {
    return (
      !this.closedLocally &&
      this.#failure === undefined &&
      channel.state !== "open" &&
      isIpcError(error) &&
      !FATAL_CODES.has(error.code) &&
      error.code !== IpcErrorCode.DECODE &&
      error.code !== IpcErrorCode.TIMEOUT &&
      error.code !== IpcErrorCode.ABORTED
    );
  }

  #setConnection(state: ConnectionState, error?: IpcError): void {
    if (this.#connection === state) return;
    this.#connection = state;
    this.#options.onConnectionChange?.(state, error);
  }
}

function connectionLost(address: string, what: string): IpcError {
  return new IpcErrorClass(IpcErrorCode.PEER_GONE, `the connection to ${address} ${what}`);
}
