import { IpcError, IpcErrorCode, type WaitOptions } from "@ipc/core";
import { abortedError, Deadline, timeoutError } from "@ipc/core/transport";
import { QueueErrorCode } from "../errors.js";

/** An item taken from the server. */
export interface Taken {
  readonly id: string;
  readonly payload: Uint8Array;
  readonly deliveries: number;
}

/** A get ("get") or lease ("lease"). */
export type TakeMode = "get" | "lease";

/** What the batcher needs from its queue end. */
export interface TakeSource {
  /** Takes up to `count` items in one request (none when the queue is empty). */
  send(mode: TakeMode, count: number, limits: WaitOptions): Promise<Taken[]>;
  /** Waits (a slice at most) until items may be ready. */
  waitForItems(): Promise<unknown>;
}

interface PendingTake {
  readonly mode: TakeMode;
  readonly deadline: Deadline;
  /** True while a request for it is out: then only the reply settles it. */
  inFlight: boolean;
  resolve(taken: Taken): void;
  reject(error: unknown): void;
  /** Stops its timer and abort listener. */
  release(): void;
  /** Why it should leave now (aborted, timed out), if it should. */
  expired(): IpcError | undefined;
}

/** Most takes in one request. */
const BATCH_TAKES = 64;

/**
 * The waiting gets and leases of one queue end: those waiting together are served by one request (one
 * round trip for many items), in the order they were called, and wait together on the queue's bell.
 * A take that times out or is aborted while no request for it is out leaves at once, having taken
 * nothing; one whose request is out is settled by the reply (an item that came is never dropped).
 */
export class TakeBatcher {
  readonly #source: TakeSource;
  readonly #pending: PendingTake[] = [];
  #running = false;

  constructor(source: TakeSource) {
    this.#source = source;
  }

  /** A take that waits while the queue is empty (`options` bound it). */
  take(mode: TakeMode, options: WaitOptions, what: string = mode): Promise<Taken> {
    return new Promise<Taken>((resolve, reject) => {
      const { signal, timeout } = options;
      const deadline = new Deadline(timeout);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const leave = (error: IpcError) => {
        if (entry.inFlight) return;
        const index = this.#pending.indexOf(entry);
        if (index < 0) return;
        this.#pending.splice(index, 1);
        entry.release();
        reject(error);
      };
      const onAbort = () => leave(abortedError(what, signal!));
      const entry: PendingTake = {
        mode,
        deadline,
        inFlight: false,
        resolve,
        reject,
        release() {
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
        },
        expired() {
          if (signal?.aborted) return abortedError(what, signal);
          return deadline.expired ? timeoutError(what, timeout!) : undefined;
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      if (timeout !== undefined && timeout !== Number.POSITIVE_INFINITY) {
        timer = setTimeout(() => leave(timeoutError(what, timeout)), timeout);
      }
      this.#pending.push(entry);
      if (!this.#running) {
        this.#running = true;
        process.nextTick(() => void this.#run()); // after this tick: the calls made in it go together
      }
    });
  }

  /** Fails every take not in a request. */
  failAll(error: unknown): void {
    this.detachAll()(error);
  }

  /**
   * Takes every take not in a request out (no request will serve them) and returns what rejects them: the
   * closing end calls it once it has finished, so that the rejections and the close settle together.
   */
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
        const mode = this.#pending[0]!.mode;
        const group: PendingTake[] = [];
        for (const entry of this.#pending) {
          if (entry.mode !== mode || group.length === BATCH_TAKES) break;
          entry.inFlight = true;
          group.push(entry);
        }
        let items: Taken[];
        try {
          items = await this.#source.send(mode, group.length, limitsOf(group));
        } catch (error) {
          for (const entry of group) this.#settle(entry, () => entry.reject(error));
          continue;
        }
        group.forEach((entry, i) => {
          const item = items[i];
          if (item !== undefined) this.#settle(entry, () => entry.resolve(item));
          else entry.inFlight = false;
        });
        // Takes whose time ran out or that were aborted while their request was out leave now.
        for (const entry of group.slice(items.length)) {
          const error = entry.expired();
          if (error !== undefined) this.#settle(entry, () => entry.reject(error));
        }
        if (items.length < group.length && this.#pending.length > 0) {
          try {
            await this.#source.waitForItems();
          } catch (error) {
            this.failAll(error); // closed, or the server refused the wait
          }
        }
      }
    } finally {
      this.#running = false;
    }
  }

  #settle(entry: PendingTake, settle: () => void): void {
    const index = this.#pending.indexOf(entry);
    if (index >= 0) this.#pending.splice(index, 1);
    entry.inFlight = false;
    entry.release();
    settle();
  }
}

/** A request bounded by the group's latest deadline, so that no take in it is given up early. */
function limitsOf(group: readonly PendingTake[]): WaitOptions {
  let timeout = 0;
  for (const entry of group) {
    const left = entry.deadline.remaining();
    if (left === undefined) return {};
    timeout = Math.max(timeout, left);
  }
  return { timeout };
}

/** The error of a nowait take on an empty queue. */
export function emptyError(): IpcError {
  return new IpcError(QueueErrorCode.EMPTY, "the queue has no item ready");
}

export const closedError = (): IpcError =>
  new IpcError(IpcErrorCode.CLOSED, "this queue was closed in this process");
