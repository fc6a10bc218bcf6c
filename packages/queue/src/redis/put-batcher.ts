import { IpcError, type WaitOptions } from "@ipc/core";
import { abortedError, type Deadline, timeoutError } from "@ipc/core/transport";
import { QueueErrorCode } from "../errors.js";

/** One put waiting to be sent. */
export interface PendingPut {
  readonly payload: Uint8Array;
  readonly idempotencyKey: string | undefined;
  /** False for putNowait: it fails at once when the queue is full. */
  readonly wait: boolean;
  readonly options: WaitOptions;
  readonly deadline: Deadline;
  resolve(): void;
  reject(error: unknown): void;
}

/** What the batcher needs from its queue end. */
export interface PutSink {
  /** Sends `batch` in one request; resolves with how many of its first items are in the queue. */
  send(batch: readonly PendingPut[], limits: WaitOptions): Promise<number>;
  /** Waits (a slice at most) for room, within `limits`. */
  waitForRoom(limits: WaitOptions, deadline: Deadline): Promise<void>;
  readonly maxsize: number;
}

/** Most items, and bytes, in one request: bounds the server's time in one script and the request's size. */
const BATCH_ITEMS = 256;
const BATCH_BYTES = 1024 * 1024;

/**
 * The puts of one queue end, sent in call order: those called while a request is out go together in the
 * next one (one round trip for many items, as the stream channels batch a tick's messages). When the
 * queue is full the first put that did not fit waits for room, and every later one behind it; a
 * `putNowait` then fails at once (`ERR_IPC_QUEUE_FULL`), as it would on the local queue.
 */
export class PutBatcher {
  readonly #sink: PutSink;
  readonly #pending: PendingPut[] = [];
  #running = false;
  #waitingForRoom = false;

  constructor(sink: PutSink) {
    this.#sink = sink;
  }

  add(put: PendingPut): void {
    if (!put.wait && this.#waitingForRoom) {
      put.reject(fullError(this.#sink.maxsize, true));
      return;
    }
    this.#pending.push(put);
    if (!this.#running) {
      this.#running = true;
      process.nextTick(() => void this.#run()); // after this tick: the puts called in it go together
    }
  }

  /** Fails every put not yet sent (the end is closing). */
  failAll(error: unknown): void {
    for (const put of this.#pending.splice(0)) put.reject(error);
  }

  async #run(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        this.#dropExpired();
        if (this.#pending.length === 0) break;
        const batch = this.#nextBatch();
        let done: number;
        try {
          done = await this.#sink.send(batch, limitsOf(batch));
        } catch (error) {
          this.#pending.splice(0, batch.length);
          for (const put of batch) put.reject(error);
          continue;
        }
        this.#pending.splice(0, done);
        for (const put of batch.slice(0, done)) put.resolve();
        if (done === batch.length) {
          this.#waitingForRoom = false;
          continue;
        }
        // Full: nowait puts at the head fail; the first waiting one waits for room, the rest behind it.
        while (this.#pending.length > 0 && !this.#pending[0]!.wait) {
          this.#pending.shift()!.reject(fullError(this.#sink.maxsize, false));
        }
        const head = this.#pending[0];
        if (head === undefined) continue;
        this.#waitingForRoom = true;
        try {
          await this.#sink.waitForRoom(head.options, head.deadline);
        } catch (error) {
          if (this.#pending[0] === head) this.#pending.shift();
          head.reject(error);
        }
      }
    } finally {
      this.#running = false;
      this.#waitingForRoom = false;
    }
  }

  /** Rejects the puts whose signal aborted or whose time ran out while they waited to be sent. */
  #dropExpired(): void {
    for (let i = this.#pending.length - 1; i >= 0; i--) {
      const put = this.#pending[i]!;
      if (put.options.signal?.aborted) {
        this.#pending.splice(i, 1);
        put.reject(abortedError("put", put.options.signal));
      } else if (put.deadline.expired) {
        this.#pending.splice(i, 1);
        put.reject(timeoutError("put", put.options.timeout!));
      }
    }
  }

  #nextBatch(): PendingPut[] {
    let bytes = 0;
    let count = 0;
    while (count < this.#pending.length && count < BATCH_ITEMS) {
      const size = this.#pending[count]!.payload.byteLength;
      if (count > 0 && bytes + size > BATCH_BYTES) break;
      bytes += size;
      count += 1;
    }
    return this.#pending.slice(0, count);
  }
}

/** A request bounded by the batch's latest deadline, so that no put in it is given up early. */
function limitsOf(batch: readonly PendingPut[]): WaitOptions {
  let timeout: number | undefined = 0;
  for (const put of batch) {
    const left = put.deadline.remaining();
    if (left === undefined) return {};
    timeout = Math.max(timeout, left);
  }
  return { timeout };
}

function fullError(maxsize: number, behind: boolean): IpcError {
  return new IpcError(
    QueueErrorCode.FULL,
    behind
      ? "an earlier put of this queue end is waiting for room"
      : `the queue holds its maxsize of ${maxsize} items`,
  );
}
