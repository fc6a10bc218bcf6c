import { type Codec, IpcError, IpcErrorCode, json, type WaitOptions } from "@ipc/core";
import {
  decodeWith,
  describeShared,
  encodeWith,
  receiveIterator,
  type SharedDescription,
  validateWaitOptions,
} from "@ipc/core/transport";
import type { QueueEngine } from "./engine.js";
import { HeldLease, type Lease, type LeaseOwner } from "./lease.js";
import type { LeaseTicket, TakenItem } from "./take.js";

/** The promise a put that finished at once returns (shared: nothing to allocate). */
const DONE = Promise.resolve();

/** Milliseconds a `get` spins (blocking the event loop) watching for an item before it sleeps, by default. */
export const DEFAULT_QUEUE_SPIN_MS = 0.05;

/** Options every queue end takes, whether it created the queue or opened it. */
export interface QueueOptions<T> {
  /** How items are turned into bytes; every process must use the same. @default json */
  codec?: Codec<T> | undefined;
  /** Milliseconds a waiting `get` spins (blocking the event loop) before it sleeps; 0 never spins. @default 0.05 */
  spin?: number | undefined;
}

/** A dead letter: an item that was delivered `maxDeliveries` times without an ack, or nacked as dead. */
export interface DeadLetter<T> {
  readonly value: T;
  /** Deliveries it had. */
  readonly deliveryCount: number;
}

/** What a queue end needs besides its engine: its name, codec, and what to do when it closes. */
export interface QueueEndParts<T> {
  readonly engine: QueueEngine;
  readonly codec: Codec<T>;
  /** Removes the name, when this end owns it. */
  readonly release: () => void;
}

/**
 * A process-safe FIFO queue in shared memory: Python's `multiprocessing.Queue`. Any number of processes
 * put and get; each producer's items come out in the order it put them. `put` resolves once the item is
 * in shared memory: it survives this process exiting or being killed at once. A process killed at any
 * instant never corrupts the queue or leaves it locked.
 */
export class Queue<T = unknown> implements AsyncIterable<T>, AsyncDisposable {
  readonly #engine: QueueEngine;
  readonly #codec: Codec<T>;
  readonly #release: () => void;
  readonly #leases = new Set<HeldLease<unknown>>();
  readonly #owner: LeaseOwner = {
    settleLease: (ticket, how) => this.#engine.settle(ticket, how),
    forgetLease: (lease) => this.#leases.delete(lease),
  };
  #closing: Promise<void> | undefined;

  /** @internal Use `createQueue` or `openQueue`. */
  constructor(parts: QueueEndParts<T>) {
    this.#engine = parts.engine;
    this.#codec = parts.codec;
    this.#release = parts.release;
  }

  /** The name other processes open it by ("/name"), or undefined for an anonymous queue. */
  get name(): string | undefined {
    return this.#engine.segment.name;
  }

  /** The descriptor of an anonymous queue, to hand to a child; undefined for a named one. */
  get fd(): number | undefined {
    return this.#engine.segment.fd;
  }

  /** Most items it holds at once; 0: no limit but its byte capacity. */
  get maxsize(): number {
    return this.#engine.shape.maxsize;
  }

  /** Bytes of its ring: items not yet finished (with a 16-byte header each, padded to 16) fit in it. */
  get capacity(): number {
    return this.#engine.shape.capacity;
  }

  /** The codec items are encoded with. */
  get codec(): Codec<T> {
    return this.#codec;
  }

  /**
   * Puts `item`, waiting while the queue is full. Resolves once the item is in shared memory. A value the
   * codec cannot encode rejects this put (`ERR_IPC_ENCODE`); nothing is put when it rejects.
   * @throws `ERR_IPC_QUEUE_ITEM_TOO_LARGE`, `ERR_IPC_TIMEOUT`, `ERR_IPC_ABORTED`, `ERR_IPC_CLOSED`
   */
  put(item: T, options?: WaitOptions): Promise<void> {
    try {
      if (options !== undefined) validateWaitOptions(options, "put");
      const payload = encodeWith(this.#codec, item);
      if (options?.signal?.aborted || this.#engine.putsWaiting) return this.#engine.put(payload, options);
      return this.#engine.putIfRoom(payload) ? DONE : this.#engine.put(payload, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Puts `item` now. @throws `ERR_IPC_QUEUE_FULL` (Python's `Full`), `ERR_IPC_ENCODE`, `ERR_IPC_QUEUE_ITEM_TOO_LARGE` */
  putNowait(item: T): void {
    this.#engine.putNowait(encodeWith(this.#codec, item));
  }

  /**
   * Takes the next item, waiting while there is none. Once it resolves the item is gone from the queue:
   * if this process dies before using it, it is lost (use `lease()` for at-least-once delivery).
   * @throws `ERR_IPC_TIMEOUT`, `ERR_IPC_ABORTED` (nothing taken), `ERR_IPC_CLOSED`, `ERR_IPC_DECODE`
   */
  get(options?: WaitOptions): Promise<T> {
    if (options !== undefined && (options.signal?.aborted || !validTimeout(options.timeout))) {
      return this.#engine.take(false, options).then((taken) => this.#decode(taken)); // rejects: aborted or invalid
    }
    try {
      const ready = this.#engine.getIfReady();
      if (ready !== undefined) return Promise.resolve(decodeWith(this.#codec, ready));
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#engine.take(false, options).then((taken) => this.#decode(taken));
  }

  /** Takes the next item now. @throws `ERR_IPC_QUEUE_EMPTY` (Python's `Empty`), `ERR_IPC_DECODE` */
  getNowait(): T {
    return this.#decode(this.#engine.takeNowait(false));
  }

  /**
   * Takes the next item as a lease: it stays in the queue, held by this process, until `ack()`. If this
   * process dies (or closes the queue) first, the item goes to another consumer.
   */
  async lease(options?: WaitOptions): Promise<Lease<T>> {
    return this.#held(await this.#engine.take(true, options));
  }

  /** {@link lease} now. @throws `ERR_IPC_QUEUE_EMPTY` */
  leaseNowait(): Lease<T> {
    return this.#held(this.#engine.takeNowait(true));
  }

  /** Items ready to get now, exactly (leased items and dead letters are not counted). */
  qsize(): number {
    return this.#engine.qsize();
  }

  /** True when no item is ready now. */
  empty(): boolean {
    return this.#engine.qsize() === 0;
  }

  /** True when the queue holds `maxsize` items (never for a queue without `maxsize`). */
  full(): boolean {
    return this.maxsize > 0 && this.#engine.qsize() >= this.maxsize;
  }

  /** Leases held now, by every process. */
  leasedCount(): number {
    return this.#engine.leasedCount();
  }

  /** Dead letters waiting to be taken. */
  deadLetterCount(): number {
    return this.#engine.deadLetterCount();
  }

  /**
   * Takes up to `max` dead letters out of the queue, oldest first (they hold queue capacity until taken).
   * @throws `ERR_IPC_CLOSED`
   */
  async takeDeadLetters(options: { max?: number } = {}): Promise<DeadLetter<T>[]> {
    const max = options.max ?? Number.POSITIVE_INFINITY;
    const letters: DeadLetter<T>[] = [];
    while (letters.length < max) {
      const taken = await this.#engine.takeDead();
      if (taken === undefined) break;
      letters.push({ value: decodeWith(this.#codec, taken.payload), deliveryCount: taken.deliveries });
    }
    return letters;
  }

  /** Gets items one after another; ends when this queue is closed. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return receiveIterator(() => this.get());
  }

  /**
   * Releases this process's hold: its pending waits reject with `ERR_IPC_CLOSED`, the leases it holds go
   * back for another delivery, and the memory is unmapped; the creator of a named queue also removes the
   * name (unless `unlink: "never"`). Other processes keep using the queue. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** How a child process opens this queue (`Process` args in @ipc/pipe). @internal */
  [describeShared](): SharedDescription {
    const { name, fd } = this;
    return {
      package: "@ipc/queue",
      kind: this.kind,
      data: { name: name ?? null, codec: this.#codec.name },
      ...(fd === undefined ? {} : { fds: [fd] }),
    };
  }

  /** What this queue is, for a child that opens it. @internal */
  protected get kind(): string {
    return "queue";
  }

  /** @internal */
  protected get engine(): QueueEngine {
    return this.#engine;
  }

  /** Gives back the leases this process still holds (the queue is closing). @internal */
  protected async returnHeld(tickets: readonly LeaseTicket[]): Promise<void> {
    for (const ticket of tickets) {
      try {
        await this.#engine.settle(ticket, "return");
      } catch {
        // The queue's memory is unusable: the item goes back when this process's slot is swept.
      }
    }
  }

  async #close(): Promise<void> {
    if (this.#engine.closed) return;
    const held = [...this.#leases].map((lease) => lease.ticket);
    this.#leases.clear();
    await this.returnHeld([...held, ...this.heldTickets()]);
    this.#engine.close();
    this.#release();
  }

  /** Tickets of other leases a subclass holds (a joinable queue's gets). @internal */
  protected heldTickets(): LeaseTicket[] {
    return [];
  }

  #decode(taken: TakenItem): T {
    return decodeWith(this.#codec, taken.payload);
  }

  #held(taken: TakenItem): Lease<T> {
    const ticket = taken;
    let value: T;
    try {
      value = decodeWith(this.#codec, taken.payload);
    } catch (error) {
      // An item this codec cannot read would fail every consumer the same way: it is dead at once.
      void this.#engine.settle(ticket, "dead").catch(() => {});
      throw error;
    }
    const lease = new HeldLease<T>(value, ticket, this.#owner);
    this.#leases.add(lease as HeldLease<unknown>);
    return lease;
  }
}

/** `ERR_IPC_INVALID_ARGUMENT` unless `spin` is a usable number of milliseconds. */
export function checkSpin(spin: number | undefined): number {
  const value = spin ?? DEFAULT_QUEUE_SPIN_MS;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new IpcError(
      IpcErrorCode.INVALID_ARGUMENT,
      `spin must be a non-negative number of milliseconds, got ${String(spin)}`,
    );
  }
  return value;
}

/** The codec asked for, or json. */
export function codecOf<T>(options: QueueOptions<T>): Codec<T> {
  return options.codec ?? (json as unknown as Codec<T>);
}

function validTimeout(timeout: number | undefined): boolean {
  return timeout === undefined || (typeof timeout === "number" && timeout >= 0);
}
