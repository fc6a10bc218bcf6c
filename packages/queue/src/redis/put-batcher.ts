import { IpcError, type WaitOptions } from "@ipc/core";
import { abortedError, Deadline, timeoutError } from "@ipc/core/transport";
import { QueueErrorCode } from "../errors.js";

/** One put, as its queue end hands it over. */
export interface PutRequest {
  readonly payload: Uint8Array;
  readonly idempotencyKey: string | undefined;
  /** False for putNowait: it fails at once when the queue is full. */
  readonly wait: boolean;
  readonly options: WaitOptions;
  resolve(): void;
  reject(error: unknown): void;
}

/** A put waiting to be sent, or in a request. */
export interface PendingPut extends PutRequest {
  readonly deadline: Deadline;
  /** True while a request holding it is out: then only the reply settles it. */
  inFlight: boolean;
  release(): void;
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
 * The puts of one queue end, sent in call order: those called in one tick, or while a request is out, go
 * together in the next one (one round trip for many items, as the stream channels batch a tick's
 * messages). When the queue is full the first put that did not fit waits for room, and every later one
 * behind it; a `putNowait` then fails at once (`ERR_IPC_QUEUE_FULL`), as it would on the local queue. A put
 * whose time runs out, or whose signal aborts, while it is not in a request leaves at once, put nothing.
 */
export class PutBatcher {
  readonly #sink: PutSink;
  readonly #pending: PendingPut[] = [];
  #running = false;
  #waitingForRoom = false;

  constructor(sink: PutSink) {
    this.#sink = sink;
  }

  add(request: PutRequest): void {
    if (!request.wait && this.#waitingForRoom) {
      request.reject(fullError(this.#sink.maxsize, true));
      return;
    }
    const { signal, timeout } = request.options;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const leave = (error: IpcError) => {
      if (entry.inFlight) return;
      const index = this.#pending.indexOf(entry);
      if (index < 0) return;
      this.#pending.splice(index, 1);
      entry.release();
      request.reject(error);
    };
    const onAbort = () => leave(abortedError("put", signal!));
    const entry: PendingPut = {
      ...request,
      deadline: new Deadline(timeout),
      inFlight: false,
      release() {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      },
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    if (timeout !== undefined && timeout !== Number.POSITIVE_INFINITY) {
      timer = setTimeout(() => leave(timeoutError("put", timeout)), timeout);
    }
    this.#pending.push(entry);
    if (!this.#running) {
      this.#running = true;
      process.nextTick(() => void this.#run()); // after this tick: the puts called in it go together
    }
  }

  /** Takes every put not in a request out (none will be sent) and returns what rejects them (see TakeBatcher). */
  detachAll(): (error: unknown) => void {
    const detached = this.#pending.filter((pending) => !pending.inFlight);
    for (const entry of detached) {
      this.#pending.splice(this.#pending.indexOf(entry), 1);
      entry.release();
    }
    return (error) => {
      for (const entry of detached) entry.reject(error);
    };
  }

  async #run(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const batch = this.#nextBatch();
        for (const put of batch) put.inFlight = true;
        let done: number;
        try {
          done = await this.#sink.send(batch, limitsOf(batch));
        } catch (error) {
          for (const put of batch) this.#settle(put, () => put.reject(error));
          continue;
        }
        for (const put of batch.slice(0, done)) this.#settle(put, () => put.resolve());
        for (const put of batch.slice(done)) put.inFlight = false;
        if (done === batch.length) {
          this.#waitingForRoom = false;
          continue;
        }
        // Full: nowait puts and expired ones at the head fail; the first waiting one waits for room, the
        // rest behind it.
        while (this.#pending.length > 0) {
          const head = this.#pending[0]!;
          const expired = head.options.signal?.aborted
            ? abortedError("put", head.options.signal)
            : head.deadline.expired
              ? timeoutError("put", head.options.timeout!)
              : !head.wait
                ? fullError(this.#sink.maxsize, false)
                : undefined;
          if (expired === undefined) break;
          this.#settle(head, () => head.reject(expired));
        }
        const head = this.#pending[0];
        if (head === undefined) continue;
        this.#waitingForRoom = true;
        try {
          await this.#sink.waitForRoom(head.options, head.deadline);
        } catch (error) {
          if (this.#pending.includes(head) && !head.inFlight) this.#settle(head, () => head.reject(error));
        }
      }
    } finally {
      this.#running = false;
      this.#waitingForRoom = false;
    }
  }

  #settle(put: PendingPut, settle: () => void): void {
    const index = this.#pending.indexOf(put);
    if (index >= 0) this.#pending.splice(index, 1);
    put.inFlight = false;
    put.release();
    settle();
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
  let timeout = 0;
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
