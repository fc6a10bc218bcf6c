import { randomBytes } from "node:crypto";
import { type Codec, IpcError, IpcErrorCode, json } from "@ipc/core";
import { QueueErrorCode } from "../errors.js";
import { DEFAULT_MAX_DELIVERIES } from "../layout.js";
import { pointerKey, type QueueKeys, queueKeys, validQueueName } from "./keys.js";
import { type RedisClient, RedisLink, type RedisTarget } from "./link.js";
import {
  DEFAULT_IDEMPOTENCY_WINDOW_MS,
  RedisJoinableQueue,
  RedisQueue,
  type RedisQueueParts,
  type RedisQueueSettings,
} from "./redis-queue.js";
import { CREATE, SETTINGS, UNLINK } from "./scripts.js";

/** Milliseconds the connection, and every request without a timeout of its own, may take. */
export const DEFAULT_REDIS_TIMEOUT_MS = 10_000;

/** The layout version stored with a queue; an end refuses a queue of another version. */
const LAYOUT_VERSION = "1";
/** Milliseconds a lease lasts unless renewed, unless `leaseTimeout` says otherwise. */
export const DEFAULT_LEASE_TIMEOUT_MS = 30_000;
/** The largest encoded item a put accepts unless `maxItemBytes` says otherwise: 16 MiB. */
export const DEFAULT_MAX_ITEM_BYTES = 16 * 1024 * 1024;
/** Redis refuses strings above 512 MB. */
const MAX_ITEM_BYTES_LIMIT = 512 * 1024 * 1024;

/** Options shared by every function that reaches a Redis queue. */
export interface OpenRedisQueueOptions<T> {
  /** The server, as a URL: `redis://host:6379`, `rediss://host:6380` (TLS), `unix:///path/redis.sock`. */
  url?: string | undefined;
  /** Or a node-redis client you made (connected here if it is not; never closed by the queue). */
  client?: RedisClient | undefined;
  /** How items are turned into bytes; every process must use the same. @default json */
  codec?: Codec<T> | undefined;
  /** Milliseconds a put's idempotency key is remembered. @default 24 hours */
  idempotencyWindow?: number | undefined;
  /**
   * Milliseconds the connection may take (a refused connection is retried until then), and every request
   * that has no timeout of its own (nowait forms, counts, acks): then `ERR_IPC_QUEUE_UNAVAILABLE`. @default 10 000
   */
  timeout?: number | undefined;
}

/** Options of `createRedisQueue` and `createRedisJoinableQueue`. */
export interface CreateRedisQueueOptions<T> extends OpenRedisQueueOptions<T> {
  /** Most items ready at once (Python's `maxsize`), enforced by the server; 0: no limit. @default 0 */
  maxsize?: number | undefined;
  /** Deliveries of one item before it becomes a dead letter. @default 5 */
  maxDeliveries?: number | undefined;
  /** Milliseconds a lease lasts if its consumer stops renewing it (died, hung, lost its connection). @default 30 000 */
  leaseTimeout?: number | undefined;
  /** The largest encoded item, in bytes (at most 512 MB, Redis's limit). @default 16 MiB */
  maxItemBytes?: number | undefined;
}

/**
 * Creates the queue `name` on a Redis server (7.0 or later) and returns an end of it; processes on any
 * machine open it with `openRedisQueue(name, …)`. The queue stays on the server until `unlinkRedisQueue`.
 * @throws `ERR_IPC_QUEUE_EXISTS`, `ERR_IPC_INVALID_ARGUMENT`, `ERR_IPC_QUEUE_UNAVAILABLE`, `ERR_IPC_UNSUPPORTED` (no node-redis)
 */
export function createRedisQueue<T = unknown>(
  name: string,
  options: CreateRedisQueueOptions<T> = {},
): Promise<RedisQueue<T>> {
  return create(name, options, false) as Promise<RedisQueue<T>>;
}

/** Creates a queue with `taskDone()` and `join()` (Python's `JoinableQueue`) on a Redis server. */
export function createRedisJoinableQueue<T = unknown>(
  name: string,
  options: CreateRedisQueueOptions<T> = {},
): Promise<RedisJoinableQueue<T>> {
  return create(name, options, true) as Promise<RedisJoinableQueue<T>>;
}

/**
 * Opens the Redis queue `name` made by `createRedisQueue` (a joinable one opens as a `RedisJoinableQueue`).
 * @throws `ERR_IPC_QUEUE_NOT_FOUND`, `ERR_IPC_PROTOCOL` (not a queue of this version), `ERR_IPC_QUEUE_UNAVAILABLE`
 */
export async function openRedisQueue<T = unknown>(
  name: string,
  options: OpenRedisQueueOptions<T> = {},
): Promise<RedisQueue<T> | RedisJoinableQueue<T>> {
  checkName(name);
  const codec = codecOf(options);
  const timeout = timeoutOf(options);
  const window = windowOf(options);
  const link = await RedisLink.open(targetOf(options), timeout);
  try {
    const incarnation = await link.command(["GET", pointerKey(name)], { timeout });
    if (incarnation === null || incarnation === undefined) throw notFound(name);
    const keys = queueKeys(name, String(incarnation));
    const settings = parseSettings(
      name,
      (await link.script(SETTINGS, [keys.meta], [], { timeout })) as unknown[],
      codec,
    );
    return endOf(name, keys, link, codec, settings, window, timeout);
  } catch (error) {
    await link.close();
    throw error;
  }
}

/**
 * Opens the Redis queue `name`, which must be joinable.
 * @throws `ERR_IPC_INVALID_ARGUMENT` also when the queue is not joinable
 */
export async function openRedisJoinableQueue<T = unknown>(
  name: string,
  options: OpenRedisQueueOptions<T> = {},
): Promise<RedisJoinableQueue<T>> {
  const queue = await openRedisQueue<T>(name, options);
  if (queue instanceof RedisJoinableQueue) return queue;
  await queue.close();
  throw new IpcError(
    IpcErrorCode.INVALID_ARGUMENT,
    `the Redis queue "${name}" is not joinable (made by createRedisQueue): open it with openRedisQueue`,
  );
}

/**
 * Removes the Redis queue `name` and its items; true when there was one. Ends still open fail with
 * `ERR_IPC_QUEUE_NOT_FOUND`, also after a new queue is made under the name.
 */
export async function unlinkRedisQueue(
  name: string,
  options: Pick<OpenRedisQueueOptions<unknown>, "url" | "client" | "timeout"> = {},
): Promise<boolean> {
  checkName(name);
  const timeout = timeoutOf(options);
  const link = await RedisLink.open(targetOf(options), timeout);
  try {
    const incarnation = await link.command(["GET", pointerKey(name)], { timeout });
    if (incarnation === null || incarnation === undefined) return false;
    const keys = queueKeys(name, String(incarnation));
    return Number(await link.script(UNLINK, allKeys(keys), [String(incarnation)], { timeout })) === 1;
  } finally {
    await link.close();
  }
}

async function create<T>(
  name: string,
  options: CreateRedisQueueOptions<T>,
  joinable: boolean,
): Promise<RedisQueue<T>> {
  checkName(name);
  const codec = codecOf(options);
  const timeout = timeoutOf(options);
  const window = windowOf(options);
  const incarnation = randomBytes(12).toString("hex");
  const keys = queueKeys(name, incarnation);
  const settings: RedisQueueSettings = {
    maxsize: integerIn(options.maxsize ?? 0, 0, 2 ** 31 - 1, "maxsize"),
    maxDeliveries: integerIn(options.maxDeliveries ?? DEFAULT_MAX_DELIVERIES, 1, 1_000_000, "maxDeliveries"),
    leaseTimeout: integerIn(
      options.leaseTimeout ?? DEFAULT_LEASE_TIMEOUT_MS,
      100,
      2 ** 31 - 1,
      "leaseTimeout",
    ),
    maxItemBytes: integerIn(
      options.maxItemBytes ?? DEFAULT_MAX_ITEM_BYTES,
      1,
      MAX_ITEM_BYTES_LIMIT,
      "maxItemBytes",
    ),
    joinable,
  };
  const link = await RedisLink.open(targetOf(options), timeout);
  try {
    const values = [
      incarnation,
      LAYOUT_VERSION,
      String(settings.maxsize),
      String(settings.maxDeliveries),
      String(settings.leaseTimeout),
      joinable ? "1" : "0",
      codec.name,
      String(settings.maxItemBytes),
    ];
    const reply = (await link.script(CREATE, allKeys(keys), values, { timeout })) as unknown[];
    if (String(reply[0]) === "exists") {
      throw new IpcError(
        QueueErrorCode.EXISTS,
        `a Redis queue named "${name}" exists already: open it with openRedisQueue, or remove it with unlinkRedisQueue`,
      );
    }
    return endOf(name, keys, link, codec, settings, window, timeout);
  } catch (error) {
    await link.close();
    throw error;
  }
}

function endOf<T>(
  name: string,
  keys: QueueKeys,
  link: RedisLink,
  codec: Codec<T>,
  settings: RedisQueueSettings,
  idempotencyWindow: number,
  requestTimeout: number,
): RedisQueue<T> {
  const parts: RedisQueueParts<T> = { name, keys, link, codec, settings, idempotencyWindow, requestTimeout };
  return settings.joinable ? new RedisJoinableQueue<T>(parts) : new RedisQueue<T>(parts);
}

function parseSettings<T>(name: string, values: unknown[], codec: Codec<T>): RedisQueueSettings {
  const [version, maxsize, maxDeliveries, leaseTimeout, joinable, codecName, maxItemBytes] = values.map(
    (value) => (value === null || value === undefined ? undefined : String(value)),
  );
  if (version === undefined) throw notFound(name);
  if (version !== LAYOUT_VERSION) {
    throw new IpcError(
      IpcErrorCode.PROTOCOL,
      `the Redis queue "${name}" has layout version ${version}; this @ipc/queue reads version ${LAYOUT_VERSION}`,
    );
  }
  if (codecName !== codec.name) {
    throw new IpcError(
      IpcErrorCode.INVALID_ARGUMENT,
      `the Redis queue "${name}" was created with the "${codecName}" codec; open it with the same codec (got "${codec.name}")`,
    );
  }
  return {
    maxsize: Number(maxsize),
    maxDeliveries: Number(maxDeliveries),
    leaseTimeout: Number(leaseTimeout),
    maxItemBytes: Number(maxItemBytes),
    joinable: joinable === "1",
  };
}

function notFound(name: string): IpcError {
  return new IpcError(
    QueueErrorCode.NOT_FOUND,
    `there is no Redis queue named "${name}" on this server: create it with createRedisQueue (a server restarted without persistence forgets its queues)`,
  );
}

function checkName(name: unknown): void {
  if (!validQueueName(name)) {
    throw new IpcError(
      IpcErrorCode.INVALID_ARGUMENT,
      `a Redis queue name is 1 to 200 letters, digits, ".", "_", ":" or "-"; got ${JSON.stringify(String(name)).slice(0, 80)}`,
    );
  }
}

function allKeys(keys: QueueKeys): string[] {
  return [keys.pointer, keys.meta, keys.stream, keys.returned, keys.dead, keys.itemBell, keys.spaceBell];
}

const URL_FORMS = /^(redis|rediss|unix):\/\//;

function targetOf(options: OpenRedisQueueOptions<unknown>): RedisTarget {
  const { url, client } = options;
  if ((url === undefined) === (client === undefined)) {
    throw new IpcError(
      IpcErrorCode.INVALID_ARGUMENT,
      "give a Redis queue exactly one of url (redis://host:6379, rediss://…, unix:///path) or client (a node-redis client)",
    );
  }
  if (client !== undefined) {
    if (typeof client !== "object" || client === null || typeof client.sendCommand !== "function") {
      throw new IpcError(
        IpcErrorCode.INVALID_ARGUMENT,
        "client must be a node-redis client (createClient() from @redis/client or redis)",
      );
    }
    return { client };
  }
  if (typeof url !== "string" || !URL_FORMS.test(url)) {
    throw new IpcError(
      IpcErrorCode.INVALID_ARGUMENT,
      `url must be redis://host:port, rediss://host:port or unix:///path/to/redis.sock; got ${JSON.stringify(String(url)).slice(0, 80)}`,
    );
  }
  return { url };
}

function codecOf<T>(options: OpenRedisQueueOptions<T>): Codec<T> {
  const codec = options.codec ?? (json as unknown as Codec<T>);
  if (
    typeof codec !== "object" ||
    codec === null ||
    typeof codec.encode !== "function" ||
    typeof codec.decode !== "function" ||
    typeof codec.name !== "string"
  ) {
    throw new IpcError(
      IpcErrorCode.INVALID_ARGUMENT,
      "codec must be a codec object such as json or bytes from @ipc/core",
    );
  }
  return codec;
}

function timeoutOf(options: { timeout?: number | undefined }): number {
  const timeout = options.timeout ?? DEFAULT_REDIS_TIMEOUT_MS;
  if (typeof timeout !== "number" || !(timeout > 0) || !Number.isFinite(timeout)) {
    throw new IpcError(
      IpcErrorCode.INVALID_ARGUMENT,
      `timeout must be a positive, finite number of milliseconds, got ${String(timeout)}`,
    );
  }
  return timeout;
}

function windowOf(options: { idempotencyWindow?: number | undefined }): number {
  return integerIn(
    options.idempotencyWindow ?? DEFAULT_IDEMPOTENCY_WINDOW_MS,
    1,
    2 ** 47,
    "idempotencyWindow",
  );
}

function integerIn(value: number, min: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new IpcError(
      IpcErrorCode.INVALID_ARGUMENT,
      `${what} must be an integer from ${min} to ${max}, got ${String(value)}`,
    );
  }
  return value;
}
