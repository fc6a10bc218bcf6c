import { IpcError, type WaitOptions } from "@ipc/core";
import { blockUntil, type Step, waitUntil, wakeSleepers } from "./blocking.js";
import { ShmErrorCode } from "./errors.js";
import { processAlive } from "./process-alive.js";
import { wordsAt } from "./words.js";

/** How often a waiting locker checks that the holder is still alive, in milliseconds. */
const OWNER_CHECK_MS = 100;

/** A held {@link SharedLock}; `using` releases it. */
export interface LockGuard extends Disposable {
  /** True when the previous holder died holding the lock: what it guarded may be half-updated. */
  readonly previousOwnerDied: boolean;
  /** Releases the lock. Idempotent. */
  unlock(): void;
}

/**
 * A mutual-exclusion lock in shared memory (8 bytes; all zeros is an unlocked lock), held by a process.
 * Waiters sleep on a futex (no spinning, no CPU). A holder that dies does not keep it forever: the next
 * locker takes it within ~100 ms and is told through `previousOwnerDied`. Not reentrant (like Python's
 * `multiprocessing.Lock`); holders are told apart by process id, so threads of one process exclude each
 * other but a dead worker thread's lock is only recovered when its whole process dies.
 */
export class SharedLock {
  /** Bytes a lock takes in shared memory. */
  static readonly byteLength = 8;
  readonly #word: { view: Int32Array; index: 0 };

  /** The lock stored at `byteOffset` (a multiple of 8) of a segment's buffer. */
  constructor(buffer: ArrayBuffer, byteOffset = 0) {
    this.#word = { view: wordsAt(buffer, byteOffset, 2, "SharedLock"), index: 0 };
  }

  /** Process id of the holder, or 0 when the lock is free. */
  get owner(): number {
    return Atomics.load(this.#word.view, 0);
  }

  /** Takes the lock if it is free (or its holder is dead), without waiting. */
  tryLock(): LockGuard | undefined {
    const step = this.#step();
    return "value" in step ? step.value : undefined;
  }

  /** Takes the lock, blocking this thread (for workers and synchronous code). @throws `ERR_IPC_TIMEOUT` */
  lockSync(options: { timeout?: number } = {}): LockGuard {
    return blockUntil(this.#word, this.#step, "lockSync", options.timeout, OWNER_CHECK_MS);
  }

  /** Takes the lock without blocking the event loop. @throws `ERR_IPC_TIMEOUT`, `ERR_IPC_ABORTED` (not taken) */
  lock(options?: WaitOptions): Promise<LockGuard> {
    return waitUntil(this.#word, this.#step, "lock", options, OWNER_CHECK_MS);
  }

  /** Runs `body` holding the lock and releases it however `body` ends. */
  async withLock<R>(body: (guard: LockGuard) => R | Promise<R>, options?: WaitOptions): Promise<R> {
    using guard = await this.lock(options);
    return await body(guard);
  }

  readonly #step = (): Step<LockGuard> => {
    const view = this.#word.view;
    const owner = Atomics.compareExchange(view, 0, 0, process.pid);
    if (owner === 0) return { value: this.#guard(false) };
    if (!processAlive(owner) && Atomics.compareExchange(view, 0, owner, process.pid) === owner) {
      return { value: this.#guard(true) };
    }
    return { expected: owner };
  };

  #guard(previousOwnerDied: boolean): LockGuard {
    let held = true;
    const unlock = () => {
      if (!held) return;
      held = false;
      const view = this.#word.view;
      if (Atomics.compareExchange(view, 0, process.pid, 0) !== process.pid) {
        throw new IpcError(
          ShmErrorCode.LOCK_NOT_HELD,
          "unlock of a SharedLock this process no longer holds: something else wrote over the lock's memory",
        );
      }
      wakeSleepers(this.#word, 1);
    };
    return { previousOwnerDied, unlock, [Symbol.dispose]: unlock };
  }
}
