import { IpcError, IpcErrorCode, type WaitOptions } from "@ipc/core";
import { describeShared, type SharedDescription } from "@ipc/core/transport";
import { blockUntil, type Step, type WaitWord, waitUntil, wakeSleepers } from "./blocking.js";
import { describeInSegment } from "./shared-segments.js";
import { wordsAt } from "./words.js";

/**
 * A counting semaphore in shared memory (8 bytes; all zeros is a semaphore at 0), like Python's
 * `multiprocessing.Semaphore`. Waiters sleep on a futex. Permits of a process that dies are not
 * returned (as with POSIX semaphores): use {@link SharedLock} where a holder may crash.
 */
export class SharedSemaphore {
  /** Bytes a semaphore takes in shared memory. */
  static readonly byteLength = 8;
  readonly #word: WaitWord;

  /** The semaphore stored at `byteOffset` (a multiple of 8) of a segment's buffer. */
  constructor(buffer: ArrayBuffer, byteOffset = 0) {
    this.#word = { view: wordsAt(buffer, byteOffset, 2, "SharedSemaphore"), index: 0, sleepers: 1 };
  }

  /** Permits available now. */
  get value(): number {
    return Atomics.load(this.#word.view, 0);
  }

  /** Takes a permit if one is available, without waiting. */
  tryAcquire(): boolean {
    return "value" in this.#step();
  }

  /** Takes a permit, blocking this thread. @throws `ERR_IPC_TIMEOUT` */
  acquireSync(options: { timeout?: number } = {}): void {
    blockUntil(this.#word, this.#step, "acquireSync", options.timeout);
  }

  /** Takes a permit without blocking the event loop. @throws `ERR_IPC_TIMEOUT`, `ERR_IPC_ABORTED` (nothing taken) */
  async acquire(options?: WaitOptions): Promise<void> {
    await waitUntil(this.#word, this.#step, "acquire", options);
  }

  /** Returns `count` permits and wakes as many waiters. */
  release(count = 1): void {
    if (!Number.isSafeInteger(count) || count < 1) {
      throw new IpcError(
        IpcErrorCode.INVALID_ARGUMENT,
        `release count must be a positive integer, got ${String(count)}`,
      );
    }
    Atomics.add(this.#word.view, 0, count);
    wakeSleepers(this.#word, count);
  }

  readonly #step = (): Step<true> => {
    const view = this.#word.view;
    for (;;) {
      const permits = Atomics.load(view, 0);
      if (permits <= 0) return { expected: permits };
      if (Atomics.compareExchange(view, 0, permits, permits - 1) === permits) return { value: true };
    }
  };

  /** How a child process maps the same semaphore (`Process` args in @ipc/pipe). @internal */
  [describeShared](): SharedDescription {
    const { view } = this.#word;
    return describeInSegment(view.buffer as ArrayBuffer, "semaphore", { byteOffset: view.byteOffset });
  }
}
