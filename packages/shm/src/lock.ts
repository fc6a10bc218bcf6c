import { IpcError, type WaitOptions } from "@ipc/core";
import { describeShared, type SharedDescription } from "@ipc/core/transport";
import { blockUntil, type Step, type WaitWord, waitUntil } from "./blocking.js";
import { ShmErrorCode } from "./errors.js";
import { futexNotify } from "./futex.js";
import { identityGone, identityPid, PID_HALF, selfIdentity } from "./process-identity.js";
import { describeInSegment } from "./shared-segments.js";
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

// The owner is one 64-bit identity word (pid and start time); the futex waits on its pid half.
const PID_WORD = PID_HALF;
const SLEEPERS_WORD = 2;

/**
 * A mutual-exclusion lock in shared memory (16 bytes; all zeros is an unlocked lock), held by a process.
 * Waiters sleep on a futex (no spinning, no CPU). A holder that dies does not keep it forever: the next
 * locker takes it within ~100 ms and is told through `previousOwnerDied` (a holder is its pid and start
 * time, so a pid reused by another process does not pass for the holder). Not reentrant (like Python's
 * `multiprocessing.Lock`); holders are told apart by process id, so threads of one process exclude each
 * other but a dead worker thread's lock is only recovered when its whole process dies.
 */
export class SharedLock {
  /** Bytes a lock takes in shared memory. */
  static readonly byteLength = 16;
  readonly #word: WaitWord;
  readonly #owner: BigInt64Array;

  /** The lock stored at `byteOffset` (a multiple of 8) of a segment's buffer. */
  constructor(buffer: ArrayBuffer, byteOffset = 0) {
    const view = wordsAt(buffer, byteOffset, 4, "SharedLock");
    this.#word = { view, index: PID_WORD, sleepers: SLEEPERS_WORD };
    this.#owner = new BigInt64Array(buffer, byteOffset, 1);
  }

  /** Process id of the holder, or 0 when the lock is free. */
  get owner(): number {
    return Atomics.load(this.#word.view, PID_WORD);
  }

  /** Takes the lock if it is free (or its holder is dead), without waiting. */
  tryLock(): LockGuard | undefined {
    const step = this.#step(true);
    return "value" in step ? step.value : undefined;
  }

  /** Takes the lock, blocking this thread (for workers and synchronous code). @throws `ERR_IPC_TIMEOUT` */
  lockSync(options: { timeout?: number } = {}): LockGuard {
    return blockUntil(this.#word, this.#stepper(), "lockSync", options.timeout, OWNER_CHECK_MS);
  }

  /** Takes the lock without blocking the event loop. @throws `ERR_IPC_TIMEOUT`, `ERR_IPC_ABORTED` (not taken) */
  lock(options?: WaitOptions): Promise<LockGuard> {
    return waitUntil(this.#word, this.#stepper(), "lock", options, OWNER_CHECK_MS);
  }

  /**
   * For structures built on the lock, on their hot path: takes the lock if it is free, allocating nothing
   * and not asking whether a holder is alive (`lock()` does, for a wait). Release it with {@link release}.
   */
  tryAcquire(): boolean {
    return Atomics.compareExchange(this.#owner, 0, 0n, selfIdentity()) === 0n;
  }

  /** Releases a lock taken with {@link tryAcquire}. @throws `ERR_IPC_SHM_LOCK_NOT_HELD` */
  release(): void {
    const me = selfIdentity();
    if (Atomics.compareExchange(this.#owner, 0, me, 0n) !== me) {
      throw new IpcError(
        ShmErrorCode.LOCK_NOT_HELD,
        "unlock of a SharedLock this process no longer holds: something else wrote over the lock's memory",
      );
    }
    const view = this.#word.view;
    if (Atomics.load(view, SLEEPERS_WORD) > 0) futexNotify(view, PID_WORD, 1);
  }

  /** Runs `body` holding the lock and releases it however `body` ends. */
  async withLock<R>(body: (guard: LockGuard) => R | Promise<R>, options?: WaitOptions): Promise<R> {
    using guard = await this.lock(options);
    return await body(guard);
  }

  /** One wait's steps: whether the holder is alive is asked at most every OWNER_CHECK_MS (a system call). */
  #stepper(): () => Step<LockGuard> {
    let checked = Number.NEGATIVE_INFINITY;
    return () => {
      const now = performance.now();
      const check = now - checked >= OWNER_CHECK_MS;
      if (check) checked = now;
      return this.#step(check);
    };
  }

  #step(checkOwner: boolean): Step<LockGuard> {
    const me = selfIdentity();
    const owner = Atomics.compareExchange(this.#owner, 0, 0n, me);
    if (owner === 0n) return { value: this.#guard(false) };
    if (checkOwner && identityGone(owner) && Atomics.compareExchange(this.#owner, 0, owner, me) === owner) {
      return { value: this.#guard(true) };
    }
    return { expected: identityPid(owner) };
  }

  #guard(previousOwnerDied: boolean): LockGuard {
    let held = true;
    const unlock = () => {
      if (!held) return;
      held = false;
      this.release();
    };
    return { previousOwnerDied, unlock, [Symbol.dispose]: unlock };
  }

  /** How a child process maps the same lock (`Process` args in @ipc/pipe). @internal */
  [describeShared](): SharedDescription {
    const { view } = this.#word;
    return describeInSegment(view.buffer as ArrayBuffer, "lock", { byteOffset: view.byteOffset });
  }
}
