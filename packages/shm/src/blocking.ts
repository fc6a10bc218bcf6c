import type { WaitOptions } from "@ipc/core";
import { checkWaitOptions, Deadline, timeoutError } from "@ipc/core/transport";
import { futexNotify, futexWait, futexWaitAsync } from "./futex.js";

/** One look at a shared primitive: done with `value`, or sleep while the word still reads `expected`. */
export type Step<R> = { readonly value: R } | { readonly expected: number };

/** What a blocking primitive waits on: the word at `index`, and a count of sleepers at `sleepers`. */
export interface WaitWord {
  readonly view: Int32Array;
  readonly index: number;
  readonly sleepers: number;
}

/** A sleep a wait asks for: while the word reads `expected`, for at most `timeoutMs`. */
interface Sleep {
  readonly expected: number;
  readonly timeoutMs: number;
}

/**
 * The logic of every wait, whichever way it sleeps: calls `step` until it is done, registering as a
 * sleeper before the first sleep and unregistering however it ends. Yields the sleeps it needs.
 */
function* waitLoop<R>(
  word: WaitWord,
  step: () => Step<R>,
  what: string,
  timeout: number,
  sliceMs: number,
): Generator<Sleep, R> {
  const deadline = new Deadline(timeout);
  const { view, sleepers } = word;
  let sleeping = false;
  try {
    for (;;) {
      const next = step();
      if ("value" in next) return next.value;
      const left = deadline.remaining() ?? Number.POSITIVE_INFINITY;
      if (left <= 0) throw timeoutError(what, timeout);
      if (!sleeping) {
        Atomics.add(view, sleepers, 1);
        sleeping = true;
        continue; // look once more now that wakers can see us
      }
      yield { expected: next.expected, timeoutMs: Math.min(left, sliceMs) };
    }
  } finally {
    if (sleeping) Atomics.sub(view, sleepers, 1);
  }
}

/**
 * Synchronous wait: calls `step` until it is done, sleeping on the word between tries (at most `sliceMs`
 * at a time, so `step` can look again, say for a dead owner). @throws `ERR_IPC_TIMEOUT` after `timeout` ms
 */
export function blockUntil<R>(
  word: WaitWord,
  step: () => Step<R>,
  what: string,
  timeout = Number.POSITIVE_INFINITY,
  sliceMs = Number.POSITIVE_INFINITY,
): R {
  checkWaitOptions({ timeout }, what);
  const loop = waitLoop(word, step, what, timeout, sliceMs);
  try {
    for (let next = loop.next(); ; next = loop.next()) {
      if (next.done) return next.value;
      futexWait(word.view, word.index, next.value.expected, next.value.timeoutMs);
    }
  } finally {
    loop.return(undefined as R); // unregisters the sleeper if the wait ended by an error
  }
}

/**
 * {@link blockUntil} without blocking the event loop: sleeps on a waiter thread of the addon.
 * @throws `ERR_IPC_TIMEOUT`, `ERR_IPC_ABORTED` (nothing taken), `ERR_IPC_CLOSED` if the memory is closed
 */
export async function waitUntil<R>(
  word: WaitWord,
  step: () => Step<R>,
  what: string,
  options: WaitOptions = {},
  sliceMs = Number.POSITIVE_INFINITY,
): Promise<R> {
  checkWaitOptions(options, what);
  const loop = waitLoop(word, step, what, options.timeout ?? Number.POSITIVE_INFINITY, sliceMs);
  try {
    for (let next = loop.next(); ; next = loop.next()) {
      if (next.done) return next.value;
      const { expected, timeoutMs } = next.value;
      await futexWaitAsync(word.view, word.index, expected, { timeout: timeoutMs, signal: options.signal });
    }
  } finally {
    loop.return(undefined as R); // unregisters the sleeper if the wait ended by an error
  }
}

/** Wakes `count` sleepers on the word if any are registered (a cheap load when none are). */
export function wakeSleepers(word: WaitWord, count: number): void {
  if (Atomics.load(word.view, word.sleepers) > 0) futexNotify(word.view, word.index, count);
}
