import { IpcError } from "@ipc/core";
import { QueueErrorCode } from "./errors.js";
import type { LeaseTicket } from "./take.js";

/**
 * An item held by this process until it calls `ack()` (done: it is gone) or `nack()` (give it back for
 * another delivery). If this process dies first, the item is delivered again to another consumer, within
 * about 100 ms; past `maxDeliveries` deliveries it becomes a dead letter instead.
 */
export interface Lease<T> {
  /** The item. */
  readonly value: T;
  /** Deliveries of this item so far, this one included (1 the first time). */
  readonly deliveryCount: number;
  /** The item is done: it leaves the queue. @throws `ERR_IPC_QUEUE_LEASE_SETTLED` when settled already */
  ack(): Promise<void>;
  /**
   * Gives the item back for another delivery (it goes before newer items), or with `deadLetter: true` (or
   * once it has had `maxDeliveries` deliveries) to the dead letters. @throws `ERR_IPC_QUEUE_LEASE_SETTLED`
   */
  nack(options?: { deadLetter?: boolean }): Promise<void>;
}

/** How a lease reaches its queue to settle (`K`: what names the lease in that queue). */
export interface LeaseOwner<K extends { readonly deliveries: number } = LeaseTicket> {
  settleLease(ticket: K, how: "ack" | "return" | "dead"): Promise<boolean>;
  forgetLease(lease: HeldLease<unknown, K>): void;
}

/** A lease this process holds (its queue keeps it to give it back if the queue is closed first). */
export class HeldLease<T, K extends { readonly deliveries: number } = LeaseTicket> implements Lease<T> {
  readonly value: T;
  readonly deliveryCount: number;
  readonly ticket: K;
  readonly #owner: LeaseOwner<K>;
  #settled = false;

  constructor(value: T, ticket: K, owner: LeaseOwner<K>) {
    this.value = value;
    this.deliveryCount = ticket.deliveries;
    this.ticket = ticket;
    this.#owner = owner;
  }

  get settled(): boolean {
    return this.#settled;
  }

  ack(): Promise<void> {
    return this.#settle("ack");
  }

  nack(options: { deadLetter?: boolean } = {}): Promise<void> {
    return this.#settle(options.deadLetter ? "dead" : "return");
  }

  async #settle(how: "ack" | "return" | "dead"): Promise<void> {
    if (this.#settled) throw settledError();
    this.#settled = true;
    this.#owner.forgetLease(this as HeldLease<unknown, K>);
    if (!(await this.#owner.settleLease(this.ticket, how))) throw settledError();
  }
}

function settledError(): IpcError {
  return new IpcError(
    QueueErrorCode.LEASE_SETTLED,
    "this lease was settled already (ack or nack once per lease), or its queue gave the item to another consumer",
  );
}
