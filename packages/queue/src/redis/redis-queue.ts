import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { type Codec, IpcError, IpcErrorCode, type WaitOptions } from "@ipc/core";
import {
  checkWaitOptions,
  Deadline,
  decodeWith,
  encodeWith,
  receiveIterator,
  timeoutError,
} from "@ipc/core/transport";
import { QueueErrorCode } from "../errors.js";
import { HeldLease, type Lease, type LeaseOwner } from "../lease.js";
import type { DeadLetter } from "../queue.js";
import { Coalescer } from "./coalescer.js";
import type { QueueKeys } from "./keys.js";
import type { RedisLink } from "./link.js";
import { type PendingPut, PutBatcher } from "./put-batcher.js";
import { ACK, COUNTS, FORGET_CONSUMER, NACK, PUT, RENEW, TAKE, TAKE_DEAD } from "./scripts.js";
import { closedError, emptyError, TakeBatcher, type TakeMode, type Taken } from "./take-batcher.js";

/** How long a request's result is kept for a retry after a lost reply, in milliseconds. */
const MEMO_TTL_MS = 5 * 60_000;
/** How long an idempotency key is remembered unless `idempotencyWindow` says otherwise: a day. */
export const DEFAULT_IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000;

/** The settings a Redis queue was created with (stored with it). */
export interface RedisQueueSettings {
  readonly maxsize: number;
  readonly maxDeliveries: number;
  /** Milliseconds a lease lasts without renewal; a live consumer renews its leases every third of it. */
  readonly leaseTimeout: number;
  readonly joinable: boolean;
  /** The largest encoded item a put accepts, in bytes. */
  readonly maxItemBytes: number;
}

/** Options of a put into a Redis queue. */
export interface RedisPutOptions extends WaitOptions {
  /** Put only once: a put with a key seen within `idempotencyWindow` is not added again (it resolves). */
  idempotencyKey?: string | undefined;
}

/** What names a lease in Redis: the stream entry, its delivery, the consumer that holds it. */
interface RedisTicket {
  readonly id: string;
  readonly deliveries: number;
}

/** What a Redis queue end is made of. @internal */
export interface RedisQueueParts<T> {
  readonly name: string;
  readonly keys: QueueKeys;
  readonly link: RedisLink;
  readonly codec: Codec<T>;
  readonly settings: RedisQueueSettings;
  readonly idempotencyWindow: number;
  /** Milliseconds a request without a timeout of its own may take (nowait forms, counts, acks). */
  readonly requestTimeout: number;
}

/**
 * A queue on Redis Streams with the API of @ipc/queue's `Queue`, shared by processes on any number of
 * machines. Every method talks to the server, so the nowait forms and the counts return promises.
 */
export class RedisQueue<T = unknown> implements AsyncIterable<T>, AsyncDisposable {
  readonly name: string;
  readonly #parts: RedisQueueParts<T>;
  readonly #consumer = `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  readonly #leases = new Set<HeldLease<unknown, RedisTicket>>();
  readonly #owner: LeaseOwner<RedisTicket> = {
    settleLease: (ticket, how) => this.#settle(ticket, how),
    forgetLease: (lease) => this.#leases.delete(lease),
  };
  readonly #renewer: ReturnType<typeof setInterval>;
  readonly #puts: PutBatcher;
  readonly #takes: TakeBatcher;
  readonly #acks = new Coalescer<RedisTicket, boolean>((tickets) => this.#sendAcks(tickets), 256);
  #closing: Promise<void> | undefined;

  /** @internal Use `createRedisQueue` or `openRedisQueue`. */
  constructor(parts: RedisQueueParts<T>) {
    this.name = parts.name;
    this.#parts = parts;
    this.#puts = new PutBatcher({
      send: (batch, limits) => this.#sendPuts(batch, limits),
      waitForRoom: (limits, deadline) => this.#waitFor(parts.keys.spaceBell, limits, deadline, "put"),
      maxsize: parts.settings.maxsize,
    });
    this.#takes = new TakeBatcher({
      send: (mode, count, limits) => this.#sendTake(mode, count, limits),
      waitForItems: () => parts.link.ring(parts.keys.itemBell, {}, new Deadline(undefined)),
    });
    this.#renewer = setInterval(() => void this.#renew(), Math.max(50, parts.settings.leaseTimeout / 3));
    this.#renewer.unref();
  }

  get maxsize(): number {
    return this.#parts.settings.maxsize;
  }

  get maxDeliveries(): number {
    return this.#parts.settings.maxDeliveries;
  }

  /** Milliseconds a lease lasts if its consumer stops renewing it (it died, hung or lost its connection). */
  get leaseTimeout(): number {
    return this.#parts.settings.leaseTimeout;
  }

  get codec(): Codec<T> {
    return this.#parts.codec;
  }

  /**
   * Puts `item`, waiting while the queue holds `maxsize` items (checked by the server, atomically with
   * the add). Resolves once Redis has it (durable as far as the server's persistence settings go). This
   * end's puts reach the queue in the order they were called.
   * @throws `ERR_IPC_ENCODE`, `ERR_IPC_TIMEOUT`, `ERR_IPC_ABORTED`, `ERR_IPC_QUEUE_UNAVAILABLE`, `ERR_IPC_QUEUE_NOT_FOUND`
   */
  put(item: T, options: RedisPutOptions = {}): Promise<void> {
    return this.#put(item, options, true);
  }

  /** Puts now, or fails with `ERR_IPC_QUEUE_FULL`. */
  putNowait(item: T, options: { idempotencyKey?: string } = {}): Promise<void> {
    return this.#put(item, options, false);
  }

  /** Takes the next item, waiting while there is none; once it resolves the item is gone (at most once). */
  async get(options?: WaitOptions): Promise<T> {
    return this.#decode(await this.#take("get", options, true));
  }

  /** Takes the next item now, or fails with `ERR_IPC_QUEUE_EMPTY`. */
  async getNowait(): Promise<T> {
    return this.#decode(await this.#take("get", {}, false));
  }

  /**
   * Takes the next item as a lease (at least once): it stays in the queue, held by this end, until `ack()`.
   * If this process dies, hangs or loses its connection for `leaseTimeout`, the item goes to another consumer.
   */
  async lease(options?: WaitOptions): Promise<Lease<T>> {
    return this.#held(await this.#take("lease", options, true));
  }

  async leaseNowait(): Promise<Lease<T>> {
    return this.#held(await this.#take("lease", {}, false));
  }

  /** Items ready to get, exactly (a counter the scripts keep). */
  async qsize(): Promise<number> {
    return (await this.#counts()).ready;
  }

  async empty(): Promise<boolean> {
    return (await this.qsize()) === 0;
  }

  async full(): Promise<boolean> {
    return this.maxsize > 0 && (await this.qsize()) >= this.maxsize;
  }

  async leasedCount(): Promise<number> {
    return (await this.#counts()).leased;
  }

  async deadLetterCount(): Promise<number> {
    return (await this.#counts()).dead;
  }

  /** Takes up to `max` dead letters out of the queue, oldest first. */
  async takeDeadLetters(options: { max?: number } = {}): Promise<DeadLetter<T>[]> {
    const max = options.max ?? 1000;
    const { keys, link, codec } = this.#parts;
    if (!Number.isInteger(max) || max < 1) {
      throw new IpcError(IpcErrorCode.INVALID_ARGUMENT, `max must be a positive integer, got ${String(max)}`);
    }
    const reply = (await link.script(
      TAKE_DEAD,
      [keys.meta, keys.dead, keys.spaceBell],
      [String(max)],
      this.#bounded(),
    )) as unknown[];
    if (String(reply[0]) !== "ok") this.#checkStatus(String(reply[0]));
    const letters: DeadLetter<T>[] = [];
    for (let i = 1; i < reply.length; i += 2) {
      letters.push({ value: decodeWith(codec, asBytes(reply[i])), deliveryCount: Number(reply[i + 1]) });
    }
    return letters;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return receiveIterator(() => this.get());
  }

  /**
   * Gives back the leases this end holds, stops renewing, and closes the connections it made (a client
   * you gave stays open). The queue stays on the server: `unlinkRedisQueue` removes it.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** @internal */
  protected async take(
    mode: "get" | "lease",
    options: WaitOptions | undefined,
    wait: boolean,
    what: string = mode,
  ): Promise<Taken> {
    return this.#take(mode, options, wait, what);
  }

  /** @internal */
  protected settle(ticket: RedisTicket, how: "ack" | "return" | "dead"): Promise<boolean> {
    return this.#settle(ticket, how);
  }

  /** @internal */
  protected get parts(): RedisQueueParts<T> {
    return this.#parts;
  }

  /** @internal Tickets of items a subclass holds besides leases (a joinable queue's gets). */
  protected heldTickets(): RedisTicket[] {
    return [];
  }

  /** @internal */
  protected async counts(): Promise<{
    ready: number;
    leased: number;
    dead: number;
    put: number;
    finished: number;
  }> {
    return this.#counts();
  }

  #put(item: T, options: RedisPutOptions, wait: boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      checkWaitOptions(options, "put");
      if (this.#parts.link.closed)
        throw new IpcError(IpcErrorCode.CLOSED, "this queue was closed in this process");
      const payload = encodeWith(this.#parts.codec, item);
      const { maxItemBytes } = this.#parts.settings;
      if (payload.byteLength > maxItemBytes) {
        throw new IpcError(
          QueueErrorCode.ITEM_TOO_LARGE,
          `the item encodes to ${payload.byteLength} bytes, more than this queue's maxItemBytes (${maxItemBytes})`,
        );
      }
      const key = options.idempotencyKey;
      if (key !== undefined && (typeof key !== "string" || key.length === 0 || key.length > 512)) {
        throw new IpcError(
          IpcErrorCode.INVALID_ARGUMENT,
          "idempotencyKey must be a string of 1 to 512 characters",
        );
      }
      // A nowait put is bounded by the end's request timeout (the server may be out of reach).
      const limited = wait ? options : { ...options, timeout: this.#parts.requestTimeout };
      this.#puts.add({ payload, idempotencyKey: key, wait, options: limited, resolve, reject });
    });
  }

  /** Sends a batch of puts in one script; resolves with how many of its first items are in. */
  async #sendPuts(batch: readonly PendingPut[], limits: WaitOptions): Promise<number> {
    const { keys, link } = this.#parts;
    const scriptKeys = [
      keys.meta,
      keys.stream,
      keys.itemBell,
      keys.spaceBell,
      keys.memoPrefix + nextRequestId(),
    ];
    const args: (string | Uint8Array)[] = [String(MEMO_TTL_MS), String(this.#parts.idempotencyWindow)];
    for (const put of batch) {
      args.push(put.payload);
      if (put.idempotencyKey === undefined) {
        args.push("0");
      } else {
        scriptKeys.push(keys.idempotencyPrefix + put.idempotencyKey);
        args.push(String(scriptKeys.length));
      }
    }
    const reply = (await link.script(PUT, scriptKeys, args, limits)) as unknown[];
    const status = String(reply[0]);
    if (status !== "ok") this.#checkStatus(status);
    return Number(reply[1]);
  }

  async #take(mode: TakeMode, options: WaitOptions = {}, wait: boolean, what: string = mode): Promise<Taken> {
    checkWaitOptions(options, what);
    if (this.#parts.link.closed) throw closedError();
    if (wait) return this.#takes.take(mode, options, what);
    const [taken] = await this.#sendTake(mode, 1, this.#bounded());
    if (taken === undefined) throw emptyError();
    return taken;
  }

  /** Takes up to `count` items in one script. */
  async #sendTake(mode: TakeMode, count: number, limits: WaitOptions): Promise<Taken[]> {
    const { keys, link } = this.#parts;
    const reply = (await link.script(
      TAKE,
      [
        keys.meta,
        keys.stream,
        keys.returned,
        keys.dead,
        keys.spaceBell,
        keys.memoPrefix + nextRequestId(),
        keys.itemBell,
      ],
      [this.#consumer, mode, String(MEMO_TTL_MS), String(count)],
      limits,
      true,
    )) as unknown[];
    const status = String(reply[0]);
    if (status !== "ok") {
      this.#checkStatus(status);
      return [];
    }
    const items: Taken[] = [];
    for (let i = 1; i + 2 < reply.length; i += 3) {
      items.push({ id: String(reply[i]), payload: asBytes(reply[i + 1]), deliveries: Number(reply[i + 2]) });
    }
    return items;
  }

  /** Waits for a bell (a slice at most: expired leases ring no bell), within the caller's limits. */
  async #waitFor(bell: string, options: WaitOptions, deadline: Deadline, what: string): Promise<void> {
    if (deadline.expired) throw timeoutError(what, options.timeout!);
    await this.#parts.link.ring(bell, options, deadline);
    if (options.signal?.aborted)
      throw new IpcError(IpcErrorCode.ABORTED, `${what} was aborted by its AbortSignal`, {
        cause: options.signal.reason,
      });
    if (this.#parts.link.closed)
      throw new IpcError(IpcErrorCode.CLOSED, "this queue was closed in this process");
  }

  async #settle(ticket: RedisTicket, how: "ack" | "return" | "dead"): Promise<boolean> {
    const { keys, link } = this.#parts;
    const memo = keys.memoPrefix + nextRequestId();
    if (how === "ack") return this.#acks.add(ticket);
    const reply = (await link.script(
      NACK,
      [keys.meta, keys.stream, keys.returned, keys.dead, keys.itemBell, keys.spaceBell, memo],
      [this.#consumer, ticket.id, String(ticket.deliveries), how === "dead" ? "1" : "0", String(MEMO_TTL_MS)],
      this.#bounded(),
    )) as unknown[];
    const status = String(reply[0]);
    if (status === "ok") return true;
    if (status === "settled") return false;
    this.#checkStatus(status);
    return false;
  }

  /** Acks a batch of leases in one script; true for each one this end still held. */
  async #sendAcks(tickets: readonly RedisTicket[]): Promise<boolean[]> {
    const { keys, link } = this.#parts;
    const args = [this.#consumer, String(MEMO_TTL_MS)];
    for (const ticket of tickets) args.push(ticket.id, String(ticket.deliveries));
    const reply = (await link.script(
      ACK,
      [keys.meta, keys.stream, keys.spaceBell, keys.memoPrefix + nextRequestId()],
      args,
      this.#bounded(),
    )) as unknown[];
    const status = String(reply[0]);
    if (status !== "ok") this.#checkStatus(status);
    const flags = String(reply[1]);
    return tickets.map((_, i) => flags[i] === "1");
  }

  async #counts(): Promise<{ ready: number; leased: number; dead: number; put: number; finished: number }> {
    const reply = (await this.#parts.link.script(
      COUNTS,
      [this.#parts.keys.meta],
      [],
      this.#bounded(),
    )) as unknown[];
    if (String(reply[0]) === "gone") this.#checkStatus("gone");
    const [ready, leased, dead, put, finished] = reply.map((value) => Number(String(value)));
    return { ready: ready!, leased: leased!, dead: dead!, put: put!, finished: finished! };
  }

  /** Keeps this end's leases alive; a lease whose renewal finds it taken over is forgotten (its ack will fail). */
  async #renew(): Promise<void> {
    const tickets = [...[...this.#leases].map((lease) => lease.ticket), ...this.heldTickets()];
    if (tickets.length === 0 || this.#parts.link.closed) return;
    try {
      await this.#parts.link.script(
        RENEW,
        [this.#parts.keys.stream],
        [this.#consumer, ...tickets.flatMap((t) => [t.id, String(t.deliveries)])],
        {
          timeout: this.leaseTimeout / 3,
        },
      );
    } catch {
      // The server is out of reach: the next round tries again; leases may expire meanwhile.
    }
  }

  #checkStatus(status: string): void {
    if (status === "gone") {
      throw new IpcError(
        QueueErrorCode.NOT_FOUND,
        `the Redis queue "${this.name}" does not exist any more (deleted, or lost by a server restarted without persistence)`,
      );
    }
    if (status !== "full" && status !== "empty") {
      throw new IpcError(IpcErrorCode.PROTOCOL, `the Redis queue script answered "${status}"`);
    }
  }

  #decode(taken: Taken): T {
    return decodeWith(this.#parts.codec, taken.payload);
  }

  #held(taken: Taken): Lease<T> {
    const ticket: RedisTicket = { id: taken.id, deliveries: taken.deliveries };
    let value: T;
    try {
      value = decodeWith(this.#parts.codec, taken.payload);
    } catch (error) {
      void this.#settle(ticket, "dead").catch(() => {});
      throw error;
    }
    const lease = new HeldLease<T, RedisTicket>(value, ticket, this.#owner);
    this.#leases.add(lease as HeldLease<unknown, RedisTicket>);
    return lease;
  }

  async #close(): Promise<void> {
    clearInterval(this.#renewer);
    const rejectPuts = this.#puts.detachAll();
    const rejectTakes = this.#takes.detachAll();
    const held = [...[...this.#leases].map((lease) => lease.ticket), ...this.heldTickets()];
    this.#leases.clear();
    for (const ticket of held) {
      try {
        await this.#parts.link.script(
          NACK,
          [
            this.#parts.keys.meta,
            this.#parts.keys.stream,
            this.#parts.keys.returned,
            this.#parts.keys.dead,
            this.#parts.keys.itemBell,
            this.#parts.keys.spaceBell,
            this.#parts.keys.memoPrefix + nextRequestId(),
          ],
          [this.#consumer, ticket.id, String(ticket.deliveries), "0", String(MEMO_TTL_MS)],
          { timeout: 2000 },
        );
      } catch {
        // Unreachable: the lease expires after leaseTimeout and goes to another consumer.
      }
    }
    try {
      // This end's name in the consumer group goes, unless it still holds entries (then they expire).
      await this.#parts.link.script(FORGET_CONSUMER, [this.#parts.keys.stream], [this.#consumer], {
        timeout: 2000,
      });
    } catch {
      // Unreachable: the name stays in the group, harmless.
    }
    await this.#parts.link.close();
    rejectPuts(closedError());
    rejectTakes(closedError());
  }

  /** Limits of a request that has no timeout of its own. */
  #bounded(): WaitOptions {
    return { timeout: this.#parts.requestTimeout };
  }
}

/** A joinable Redis queue: `get()` holds its item until `taskDone()`, `join()` waits for every item. */
export class RedisJoinableQueue<T = unknown> extends RedisQueue<T> {
  readonly #gotten: RedisTicket[] = [];

  override async get(options?: WaitOptions): Promise<T> {
    return this.#got(await this.take("lease", options, true, "get"));
  }

  override async getNowait(): Promise<T> {
    return this.#got(await this.take("lease", {}, false, "get"));
  }

  /** Marks the oldest item this end got as done. @throws `ERR_IPC_QUEUE_TASK_DONE` */
  async taskDone(): Promise<void> {
    const ticket = this.#gotten.shift();
    if (ticket === undefined) {
      throw new IpcError(
        QueueErrorCode.TASK_DONE,
        "taskDone() was called more times than this process got items from the queue",
      );
    }
    await this.settle(ticket, "ack");
  }

  /** Items put and not yet done, on every machine. */
  async unfinishedTasks(): Promise<number> {
    const { put, finished } = await this.counts();
    return Math.max(0, put - finished);
  }

  /** Waits until every item put has been done (taskDone, ack) or dead-lettered, on every machine. */
  async join(options: WaitOptions = {}): Promise<void> {
    checkWaitOptions(options, "join");
    const deadline = new Deadline(options.timeout);
    let pause = 5;
    for (;;) {
      if ((await this.unfinishedTasks()) === 0) return;
      if (options.signal?.aborted)
        throw new IpcError(IpcErrorCode.ABORTED, "join was aborted by its AbortSignal", {
          cause: options.signal.reason,
        });
      const left = deadline.remaining();
      if (left !== undefined && left <= 0) throw timeoutError("join", options.timeout!);
      await new Promise((resolve) => setTimeout(resolve, Math.min(pause, left ?? pause)));
      pause = Math.min(200, pause * 2);
    }
  }

  protected override heldTickets(): RedisTicket[] {
    return this.#gotten;
  }

  #got(taken: Taken): T {
    const ticket = { id: taken.id, deliveries: taken.deliveries };
    const value = decodeWith(this.parts.codec, taken.payload);
    this.#gotten.push(ticket);
    return value;
  }
}

/** This process's prefix of request ids: random, so that no other process on any machine shares it. */
const REQUEST_PREFIX = randomBytes(12).toString("base64url");
let requests = 0;

/** A request id no other request uses (it names the request's memo on the server). */
function nextRequestId(): string {
  requests += 1;
  return `${REQUEST_PREFIX}${requests.toString(36)}`;
}

function asBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  return Buffer.from(String(value));
}
