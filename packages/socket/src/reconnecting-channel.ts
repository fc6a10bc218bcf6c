import { type Channel, type ChannelState, type CloseInfo, type CloseOptions, IpcError, IpcErrorCode, isIpcError, type ReceiveOptions, type SendOptions } from "@ipc/core";
import { cancellableWait, checkWaitOptions, receiveIterator, type WaitSettlers } from "@ipc/core/transport";
import { type ConnectOptions, connect } from "./connect.js";
import { SocketErrorCode } from "./errors.js";

/** How a reconnecting client waits between attempts: exponential backoff with jitter. */
export interface ReconnectOptions {
  /** Delay before the first retry. @default 100 */
  initialDelayMs?: number;
  /** Longest delay between attempts. @default 5000 */
  maxDelayMs?: number;
  /** Growth of the delay per failed attempt. @default 2 */
  factor?: number;
  /** Fraction of each delay that is random (0 = none, 1 = anywhere from 0 to the delay). @default 0.5 */
  jitter?: number;
  /** Consecutive failed attempts before giving up (`ERR_IPC_SOCKET_GAVE_UP`). @default Infinity */
  maxAttempts?: number;
}

/** The bounded queue of messages sent while disconnected. */
export interface SendQueueOptions {
  /** Messages held while disconnected. @default 1000 */
  maxMessages?: number;
  /** When it is full, `send` waits for room (`"wait"`) or rejects with `ERR_IPC_SOCKET_QUEUE_FULL`. @default "wait" */
  whenFull?: "wait" | "fail";
}

/** Options for {@link connectWithRetry}. */
export interface ReconnectingOptions<T> extends Omit<ConnectOptions<T>, "signal"> {
  reconnect?: ReconnectOptions;
  queue?: SendQueueOptions;
  /** Closes the client (and stops reconnecting) when it aborts. */
  signal?: AbortSignal;
  /** Told of every change of the connection's state. */
  onConnectionChange?: (state: ConnectionState, error?: IpcError) => void;
}

/** Where a reconnecting client stands. */
export type ConnectionState = "connecting" | "connected" | "reconnecting" | "closed";

/** A {@link Channel} that survives dropped connections (see {@link connectWithRetry}). */
export interface ReconnectingChannel<T> extends Channel<T> {
  /** The connection's state now. */
  readonly connection: ConnectionState;
  /** Messages sent while disconnected, waiting to go out. */
  readonly queued: number;
}

interface Queued<T> {
  message: T;
}

/**
 * A client that connects in the background and reconnects whenever the connection drops, with
 * exponential backoff and jitter. `send` never fails because of a dropped connection: while
 * disconnected, messages wait in a bounded queue and go out in order on the next connection.
 * `receive` and iteration carry on across reconnections. See the README for what can be lost.
 */
export function connectWithRetry<T = unknown>(
  address: string,
  options: ReconnectingOptions<T> = {},
): ReconnectingChannel<T> {
  return new RetryingChannel<T>(address, options);
}

class RetryingChannel<T> implements ReconnectingChannel<T> {
  readonly #address: string;
  readonly #options: ReconnectingOptions<T>;
  readonly #queue: Queued<T>[] = [];
  readonly #maxQueued: number;
  readonly #roomWaiters: WaitSettlers<void>[] = [];
  readonly #connectedWaiters: WaitSettlers<Channel<T>>[] = [];
  readonly #stop = new AbortController();
  #current: Channel<T> | undefined;
  #connection: ConnectionState = "connecting";
  #state: ChannelState = "open";
  #flushing = false;
  #closing: Promise<void> | undefined;
  #settleClosed!: (info: CloseInfo) => void;
  readonly closed: Promise<CloseInfo>;

  constructor(address: string, options: ReconnectingOptions<T>) {
    this.#address = address;
    this.#options = options;
    this.#maxQueued = options.queue?.maxMessages ?? 1000;
    this.closed = new Promise((resolve) => {
      this.#settleClosed = resolve;
    });
    options.signal?.addEventListener("abort", () => void this.close(), { once: true });
    void this.#run();
  }

  get connection(): ConnectionState {
    return this.#connection;
  }

  get state(): ChannelState {
    return this.#state;
  }

  get queued(): number {
    return this.#queue.length;
  }

  async send(message: T, options?: SendOptions): Promise<void> {
    checkWaitOptions(options, "send");
    if (this.#state !== "open")
      throw new IpcError(IpcErrorCode.CLOSED, "send on a reconnecting client that is closed");
    const current = this.#current;
    if (current !== undefined && this.#queue.length === 0 && !this.#flushing) {
      try {
        return await current.send(message, options);
      } catch (error) {
        // A send the dropped connection refused sent nothing: it joins the queue instead.
        if (!this.#isConnectionLoss(error, current)) throw error;
      }
    }
    await this.#enqueue(message, options);
  }

  async receive(options?: ReceiveOptions): Promise<T> {
    checkWaitOptions(options, "receive");
    const deadline = options?.timeout === undefined ? undefined : Date.now() + options.timeout;
    for (;;) {
      const remaining = deadline === undefined ? undefined : Math.max(0, deadline - Date.now());
      const waitOptions = { signal: options?.signal, timeout: remaining };
      const channel = await this.#whenConnected(waitOptions);
      try {
        return await channel.receive({
          signal: options?.signal,
          timeout: deadline === undefined ? undefined : Math.max(0, deadline - Date.now()),
        });
      } catch (error) {
        if (!this.#isConnectionLoss(error, channel)) throw error;
      }
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return receiveIterator(() => this.receive());
  }

  close(options?: CloseOptions): Promise<void> {
    this.#closing ??= this.#close(options, { initiator: "local" });
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #close(options: CloseOptions | undefined, info: CloseInfo): Promise<void> {
    this.#state = "closing";
    const error =
      info.error ??
      new IpcError(IpcErrorCode.CLOSED, "the reconnecting client was closed; queued messages were dropped");
    // Flush what is queued if a connection is up; what cannot go out now is dropped.
    const current = this.#current;
    if (current !== undefined && this.#queue.length > 0 && info.error === undefined) {
      await this.#flush(current).catch(() => undefined);
    }
    this.#stop.abort();
    for (const waiter of this.#roomWaiters.splice(0)) waiter.reject(error);
    for (const waiter of this.#connectedWaiters.splice(0)) waiter.reject(error);
    this.#queue.length = 0;
    await current?.close(options);
    this.#state = "closed";
    this.#setConnection("closed", info.error);
    this.#settleClosed(info);
  }

  async #run(): Promise<void> {
    const reconnect = this.#options.reconnect ?? {};
    const maxAttempts = reconnect.maxAttempts ?? Number.POSITIVE_INFINITY;
    let failures = 0;
    let lastError: IpcError | undefined;
    while (!this.#stop.signal.aborted) {
      try {
        const {
          reconnect: _r,
          queue: _q,
          signal: _s,
          onConnectionChange: _o,
          ...connectOptions
        } = this.#options;
        const channel = await connect<T>(this.#address, { ...connectOptions, signal: this.#stop.signal });
        if (this.#stop.signal.aborted) {
          await channel.close();
          return;
        }
        failures = 0;
        this.#current = channel;
        this.#setConnection("connected");
        for (const waiter of this.#connectedWaiters.splice(0)) waiter.resolve(channel);
        await this.#flush(channel).catch(() => undefined);
        const info = await channel.closed;
        if (this.#current === channel) this.#current = undefined;
        lastError = info.error;
      } catch (error) {
        if (this.#stop.signal.aborted) return;
        lastError = error as IpcError;
        failures += 1;
        if (failures >= maxAttempts) {
          const gaveUp = new IpcError(
            SocketErrorCode.GAVE_UP,
            `gave up reconnecting to ${this.#address} after ${failures} failed attempts (last: ${lastError?.message ?? "unknown"}); ${this.#queue.length} queued message(s) were dropped`,
            { cause: lastError },
          );
          void (this.#closing ??= this.#close(undefined, { initiator: "error", error: gaveUp }));
          return;
        }
        this.#setConnection("reconnecting", lastError);
        await sleep(backoff(failures, reconnect), this.#stop.signal);
        continue;
      }
      if (this.#stop.signal.aborted) return;
      this.#setConnection("reconnecting", lastError);
    }
  }

  /** Sends the queue in order on `channel`; stops (keeping the rest) if the connection drops. */
  async #flush(channel: Channel<T>): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      while (this.#queue.length > 0 && this.#current === channel) {
        await channel.send(this.#queue[0]!.message);
        this.#queue.shift();
        this.#roomWaiters.shift()?.resolve();
      }
    } finally {
      this.#flushing = false;
    }
  }

  async #enqueue(message: T, options: SendOptions | undefined): Promise<void> {
    while (this.#queue.length >= this.#maxQueued) {
      if (this.#options.queue?.whenFull === "fail") {
        throw new IpcError(
          SocketErrorCode.QUEUE_FULL,
          `${this.#maxQueued} messages are already waiting for the connection to ${this.#address} to come back; raise queue.maxMessages or use whenFull: "wait"`,
        );
      }
      await cancellableWait<void>("send (waiting for room in the reconnect queue)", options, (settlers) => {
        this.#roomWaiters.push(settlers);
        return () => {
          const index = this.#roomWaiters.indexOf(settlers);
          if (index >= 0) this.#roomWaiters.splice(index, 1);
        };
      });
      if (this.#state !== "open")
        throw new IpcError(IpcErrorCode.CLOSED, "the reconnecting client was closed");
    }
    this.#queue.push({ message });
    const current = this.#current;
    if (current !== undefined) void this.#flush(current).catch(() => undefined);
  }

  #whenConnected(options: ReceiveOptions): Promise<Channel<T>> {
    if (this.#state === "closed" || this.#stop.signal.aborted) {
      return Promise.reject(
        new IpcError(IpcErrorCode.CLOSED, "receive on a reconnecting client that is closed"),
      );
    }
    if (this.#current !== undefined && this.#current.state === "open") return Promise.resolve(this.#current);
    return cancellableWait("receive (waiting for the connection)", options, (settlers) => {
      this.#connectedWaiters.push(settlers);
      return () => {
        const index = this.#connectedWaiters.indexOf(settlers);
        if (index >= 0) this.#connectedWaiters.splice(index, 1);
      };
    });
  }

  #isConnectionLoss(error: unknown, channel: Channel<T>): boolean {
    return (
      this.#state === "open" &&
      channel.state !== "open" &&
      isIpcError(error) &&
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

/** The delay before retry number `attempt` (1-based): exponential, capped, with jitter. */
export function backoff(attempt: number, options: ReconnectOptions = {}): number {
  const initial = options.initialDelayMs ?? 100;
  const max = options.maxDelayMs ?? 5_000;
  const factor = options.factor ?? 2;
  const jitter = Math.min(1, Math.max(0, options.jitter ?? 0.5));
  const delay = Math.min(max, initial * factor ** (attempt - 1));
  return delay * (1 - jitter * Math.random());
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
