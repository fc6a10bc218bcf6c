import { IpcError, type WaitOptions } from "@ipc/core";
import { decodeWith } from "@ipc/core/transport";
import { QueueErrorCode } from "./errors.js";
import { Queue } from "./queue.js";
import type { LeaseTicket, TakenItem } from "./take.js";

/**
 * Python's `multiprocessing.JoinableQueue`: a {@link Queue} whose consumers call `taskDone()` for each
 * item they got, and whose `join()` waits until every item put has been done. Better than Python's: an
 * item a consumer got stays held by it until its `taskDone()`, so when the consumer dies first the item
 * goes to another consumer (or, after `maxDeliveries`, to the dead letters), and `join()` still returns.
 */
export class JoinableQueue<T = unknown> extends Queue<T> {
  // Items this process got and has not called taskDone() for, oldest first.
  readonly #gotten: LeaseTicket[] = [];

  /** Takes the next item; it stays held by this process until {@link taskDone}. */
  override async get(options?: WaitOptions): Promise<T> {
    return this.#got(await this.engine.take(true, options));
  }

  override getNowait(): T {
    return this.#got(this.engine.takeNowait(true));
  }

  /**
   * Marks the oldest item this process got as done (Python's `task_done()`). Must be called in the process
   * that got the item. @throws `ERR_IPC_QUEUE_TASK_DONE` when called more times than this process got items
   */
  taskDone(): void {
    const ticket = this.#gotten.shift();
    if (ticket === undefined) {
      throw new IpcError(
        QueueErrorCode.TASK_DONE,
        "taskDone() was called more times than this process got items from the queue",
      );
    }
    this.engine.settleSync(ticket, "ack");
  }

  /** Items put and not yet done (acked, task done, or dead-lettered), by every process. */
  unfinishedTasks(): number {
    return this.engine.unfinished();
  }

  /**
   * Waits until every item ever put has been done: `taskDone()`, `ack()`, or dead-lettered. Consumers that
   * die do not block it: their items are delivered again or dead-lettered.
   * @throws `ERR_IPC_TIMEOUT`, `ERR_IPC_ABORTED`, `ERR_IPC_CLOSED`
   */
  join(options?: WaitOptions): Promise<void> {
    return this.engine.join(options);
  }

  protected override get kind(): string {
    return "joinable";
  }

  protected override heldTickets(): LeaseTicket[] {
    return this.#gotten.splice(0);
  }

  #got(taken: TakenItem): T {
    const ticket = taken;
    let value: T;
    try {
      value = decodeWith(this.codec, taken.payload);
    } catch (error) {
      void this.engine.settle(ticket, "dead").catch(() => {});
      throw error;
    }
    this.#gotten.push(ticket);
    return value;
  }
}
