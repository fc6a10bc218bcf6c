import { IpcError, type WaitOptions } from "@ipc/core";
import { processAlive, processStartTime } from "@ipc/core/transport";
import { blockUntil, type Step, type WaitWord, waitUntil, wakeSleepers } from "./blocking.js";
import { ShmErrorCode } from "./errors.js";
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

// The owner is one 64-bit word: the pid in the half the futex waits on, the owner's start time in the
// other, so that a pid reused by an unrelated process is not mistaken for the holder.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const PID_WORD = LITTLE_ENDIAN ? 0 : 1;
const SLEEPERS_WORD = 2;
const PID_BITS = 0xffff_ffffn;

let ownIdentity: bigint | undefined;

/** This process as a lock owner: pid and start time in one 64-bit value. */
function identity(): bigint {
  ownIdentity ??= ownerValue(process.pid, processStartTime(process.pid));
  return ownIdentity;
}

function ownerValue(pid: number, startTime: number): bigint {
  return LITTLE_ENDIAN ? (BigInt(startTime) << 32n) | BigInt(pid) : (BigInt(pid) << 32n) | BigInt(startTime);
}

function ownerPid(owner: bigint): number {
  return Number(LITTLE_ENDIAN ? owner & PID_BITS : owner >> 32n);
}

function ownerStartTime(owner: bigint): number {
  return Number(LITTLE_ENDIAN ? owner >> 32n : owner & PID_BITS);
}

/** True when the process that took the lock as `owner` is gone (exited, killed, or its pid reused). */
function ownerGone(owner: bigint): boolean {
  const pid = ownerPid(owner);
  // Not a pid at all (the memory was overwritten): kill(0 or -n) would ask about whole process groups.
  if (pid <= 0) return true;
  if (!processAlive(pid)) return true;
  const recorded = ownerStartTime(owner);
  return recorded !== 0 && processStartTime(pid) !== recorded;
}

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
    const me = identity();
    const owner = Atomics.compareExchange(this.#owner, 0, 0n, me);
    if (owner === 0n) return { value: this.#guard(false) };
    if (ownerGone(owner) && Atomics.compareExchange(this.#owner, 0, owner, me) === owner) {
      return { value: this.#guard(true) };
    }
    return { expected: ownerPid(owner) };
  };

  #guard(previousOwnerDied: boolean): LockGuard {
    let held = true;
    const unlock = () => {
      if (!held) return;
      held = false;
      const me = identity();
      if (Atomics.compareExchange(this.#owner, 0, me, 0n) !== me) {
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
