import { createHash } from "node:crypto";
import { IpcError, IpcErrorCode, type WaitOptions } from "@ipc/core";
import { abortedError, Deadline, raceTimeout, sleep } from "@ipc/core/transport";
import { QueueErrorCode } from "../errors.js";

/**
 * A node-redis client (`createClient()` from `@redis/client` or `redis`, v5 or later), connected or not:
 * the queue connects it if needed and never closes it. Only what the queue uses is named here.
 */
export interface RedisClient {
  readonly isOpen: boolean;
  connect(): Promise<unknown>;
  destroy(): void;
  on(event: "error", listener: (error: unknown) => void): unknown;
  duplicate(): RedisClient;
  withTypeMapping(mapping: Record<string | number, unknown>): RedisClient;
  sendCommand(args: (string | Buffer)[], options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

/** Where the queue's Redis is: a URL (`redis://host:6379`, `rediss://host:6380`, `unix:///path/redis.sock`), or a client you made. */
export type RedisTarget = { url: string } | { client: RedisClient };

// Errors that mean "the connection went away": the request may or may not have reached the server.
// node-redis throws its own classes; they are matched by name, since the user's copy of the package may
// not be ours.
const CONNECTION_ERRORS = new Set([
  "AbortError", // a command dropped at its deadline, unsent
  "GaveUpError",
  "ConnectionTimeoutError",
  "SocketTimeoutError",
  "ClientOfflineError",
  "DisconnectsClientError",
  "SocketClosedUnexpectedlyError",
  "ReconnectStrategyError",
  "TimeoutError",
]);
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ENOENT",
  "ETIMEDOUT",
  "EHOSTUNREACH",
]);

const GAVE_UP = Symbol("gave up");
/** How long past its deadline a written command's reply is awaited before the server is deemed hung. */
export const REPLY_GRACE_MS = 5_000;
/** A command sent whose reply did not come by the deadline. */
class GaveUpError extends Error {
  override readonly name = "GaveUpError";
}

/** Replies of a server that will serve again soon: loading its data after a restart, a replica syncing. */
const TRANSIENT_REPLY = /^(LOADING|MASTERDOWN|TRYAGAIN|CLUSTERDOWN)\b/;

function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const name = error.constructor?.name ?? error.name;
  if (isServerReply(error)) return TRANSIENT_REPLY.test(error.message);
  return CONNECTION_ERRORS.has(name) || CONNECTION_CODES.has((error as NodeJS.ErrnoException).code ?? "");
}

function isServerReply(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const name = error.constructor?.name ?? "";
  return name === "ErrorReply" || name === "SimpleError" || name === "BlobError";
}

/** How long a blocking wait on a bell lasts at most, so that aborts, timeouts and expired leases are seen. */
const BELL_SLICE_S = 0.25;

/**
 * The connections of one queue end: commands (scripts, with binary replies) on one, the blocking waits
 * on bells on two more (a blocked connection serves nobody else). A request that loses its connection
 * waits for node-redis to reconnect and is sent again (every script is safe to repeat: see scripts.ts),
 * within the caller's timeout.
 */
export class RedisLink {
  readonly #commands: RedisClient;
  readonly #bells: Map<string, RedisClient> = new Map();
  readonly #owned: RedisClient[];
  readonly #shas = new Map<string, string>();
  readonly #closing = new AbortController();
  #closed = false;

  private constructor(commands: RedisClient, owned: RedisClient[]) {
    this.#commands = commands;
    this.#owned = owned;
  }

  /** Connects to `target` within `timeout` ms (a client given is connected if it is not, and never closed by this link). */
  static async open(target: RedisTarget, timeout: number): Promise<RedisLink> {
    let redis: typeof import("@redis/client");
    try {
      redis = await import("@redis/client");
    } catch (error) {
      throw new IpcError(
        IpcErrorCode.UNSUPPORTED,
        "@ipc/queue/redis needs the node-redis client: npm install @redis/client (or redis)",
        { cause: error },
      );
    }
    const owned: RedisClient[] = [];
    let base: RedisClient;
    if ("client" in target) {
      base = target.client;
    } else {
      base = redis.createClient({ url: target.url }) as unknown as RedisClient;
      owned.push(base);
    }
    base.on("error", () => {}); // reconnection is node-redis's job; requests report what they could not do
    if (!base.isOpen) {
      const connecting = base.connect().then(
        () => true,
        (error: unknown) => error,
      );
      const outcome = await raceTimeout(connecting, timeout, false);
      if (outcome !== true) {
        for (const client of owned) client.destroy();
        throw new IpcError(
          QueueErrorCode.UNAVAILABLE,
          `could not connect to the Redis server within ${timeout} ms; check that it runs and that the URL is right`,
          { cause: outcome === false ? undefined : outcome },
        );
      }
    }
    const commands = base.withTypeMapping({ [redis.RESP_TYPES.BLOB_STRING]: Buffer });
    return new RedisLink(commands, owned);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Runs a script (loading it when the server does not have it), retrying over lost connections, within
   * `options.timeout`; `carriesItems`: its reply may hold items taken from the queue, so a reply already
   * on its way is waited for up to REPLY_GRACE_MS past the timeout.
   */
  async script(
    source: string,
    keys: readonly string[],
    args: readonly (string | Uint8Array)[],
    options: WaitOptions = {},
    carriesItems = false,
  ): Promise<unknown> {
    const grace = carriesItems ? REPLY_GRACE_MS : 0;
    const sha = this.#sha(source);
    const deadline = new Deadline(options.timeout);
    for (;;) {
      this.#check(options);
      try {
        return await this.#bounded(
          ["EVALSHA", sha, String(keys.length), ...keys, ...args.map(asArgument)],
          deadline,
          grace,
        );
      } catch (error) {
        if (isServerReply(error) && String((error as Error).message).startsWith("NOSCRIPT")) {
          await this.#retrying(
            () => this.#bounded(["SCRIPT", "LOAD", source], deadline, 0),
            deadline,
            options,
          );
          continue;
        }
        await this.#afterFailure(error, deadline, options);
      }
    }
  }

  /** Sends one plain command, retrying over lost connections within `options.timeout`. */
  async command(args: readonly string[], options: WaitOptions = {}): Promise<unknown> {
    const deadline = new Deadline(options.timeout);
    return this.#retrying(() => this.#bounded([...args], deadline, 0), deadline, options);
  }

  /** Waits (a slice at most) for a token on `bell`; true when one came. */
  async ring(bell: string, options: WaitOptions, deadline: Deadline): Promise<boolean> {
    let client = this.#bells.get(bell);
    if (client === undefined) {
      client = this.#commands.duplicate();
      client.on("error", () => {});
      this.#bells.set(bell, client);
      this.#owned.push(client);
    }
    if (!client.isOpen) await client.connect();
    const left = deadline.remaining();
    const seconds = Math.max(0.01, Math.min(BELL_SLICE_S, left === undefined ? BELL_SLICE_S : left / 1000));
    try {
      const reply = await raceAbort(
        client.sendCommand(["BLPOP", bell, seconds.toFixed(3)]),
        options.signal,
        this.#closing.signal,
      );
      return reply !== null;
    } catch (error) {
      this.#check(options);
      if (!isConnectionError(error)) throw toQueueError(error);
      await sleep(50);
      return false;
    }
  }

  /**
   * Sends a command bounded by the deadline: a command still waiting to be written (the connection is
   * down) is dropped at the deadline and never runs. One written already is waited for `grace` ms more
   * (a reply on a live connection comes; a dead connection rejects it at once), so that a get whose item
   * was taken is not given up; only a server that stops answering outlasts that.
   */
  async #bounded(args: (string | Buffer)[], deadline: Deadline, grace: number): Promise<unknown> {
    const left = deadline.remaining();
    if (left === undefined) return this.#commands.sendCommand(args);
    const sent = this.#commands.sendCommand(args, {
      abortSignal: AbortSignal.timeout(Math.max(1, Math.ceil(left))),
    });
    sent.catch(() => {}); // after the race below it may reject unobserved
    const outcome = await raceTimeout(sent, left + grace, GAVE_UP);
    if (outcome === GAVE_UP) throw new GaveUpError();
    return outcome;
  }

  /** Closes the connections this link made (a client the user gave stays open). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    await Promise.all(
      this.#owned.map(async (client) => {
        try {
          if (client.isOpen) client.destroy();
        } catch {
          // Closed already.
        }
      }),
    );
  }

  #sha(source: string): string {
    let sha = this.#shas.get(source);
    if (sha === undefined) {
      sha = createHash("sha1").update(source).digest("hex");
      this.#shas.set(source, sha);
    }
    return sha;
  }

  #check(options: WaitOptions): void {
    if (options.signal?.aborted) throw abortedError("the queue operation", options.signal);
    if (this.#closed) throw new IpcError(IpcErrorCode.CLOSED, "this queue was closed in this process");
  }

  async #retrying<R>(run: () => Promise<R>, deadline: Deadline, options: WaitOptions): Promise<R> {
    for (;;) {
      this.#check(options);
      try {
        return await run();
      } catch (error) {
        await this.#afterFailure(error, deadline, options);
      }
    }
  }

  /** After a failed request: rethrows what is not a lost connection; else waits to try again, within the deadline. */
  async #afterFailure(error: unknown, deadline: Deadline, options: WaitOptions): Promise<void> {
    this.#check(options);
    if (!isConnectionError(error)) throw toQueueError(error);
    if (deadline.expired) {
      throw new IpcError(
        QueueErrorCode.UNAVAILABLE,
        "the Redis server could not be reached in time; the operation may or may not have been applied (retrying it is safe: a put with the same idempotencyKey is applied once)",
        { cause: error },
      );
    }
    await sleep(Math.min(100, deadline.remaining() ?? 100));
  }
}

function toQueueError(error: unknown): IpcError {
  if (error instanceof IpcError) return error;
  return new IpcError(
    IpcErrorCode.PROTOCOL,
    `the Redis server refused a queue operation: ${error instanceof Error ? error.message : String(error)}`,
    { cause: error },
  );
}

/** Resolves or rejects with `promise`, or rejects as soon as a signal aborts (the promise is left to finish). */
function raceAbort<T>(promise: Promise<T>, ...signals: (AbortSignal | undefined)[]): Promise<T> {
  const live = signals.filter((signal): signal is AbortSignal => signal !== undefined);
  if (live.length === 0) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error("aborted"));
    for (const signal of live) {
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
    }
    promise.then(resolve, reject).finally(() => {
      for (const signal of live) signal.removeEventListener("abort", onAbort);
    });
  });
}

/** node-redis takes strings and Buffers: a Uint8Array is viewed as a Buffer, not copied. */
function asArgument(value: string | Uint8Array): string | Buffer {
  if (typeof value === "string" || Buffer.isBuffer(value)) return value;
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}
