import { checkWaitOptions, timeoutError, type WaitOptions } from "@ipc/core";
import { futexNotify, futexWait, futexWaitAsync } from "./futex.js";

/** One look at a shared primitive: done with `value`, or sleep while the word still reads `expected`. */
export type Step<R> = { readonly value: R } | { readonly expected: number };

/** Layout every blocking primitive shares: the word waited on at `index`, a count of sleepers at `index + 1`. */
export interface WaitWord {
  readonly view: Int32Array;
  readonly index: number;
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
  const deadline = performance.now() + timeout;
  const { view, index } = word;
  let sleeping = false;
  try {
    for (;;) {
      const next = step();
      if ("value" in next) return next.value;
      const left = deadline - performance.now();
      if (left <= 0) throw timeoutError(what, timeout);
      if (!sleeping) {
        Atomics.add(view, index + 1, 1);
        sleeping = true;
        continue; // look once more now that wakers can see us
      }
      futexWait(view, index, next.expected, Math.min(left, sliceMs));
    }
  } finally {
    if (sleeping) Atomics.sub(view, index + 1, 1);
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
  const timeout = options.timeout ?? Number.POSITIVE_INFINITY;
  const deadline = performance.now() + timeout;
  const { view, index } = word;
  let sleeping = false;
  try {
    for (;;) {
      const next = step();
      if ("value" in next) return next.value;
      const left = deadline - performance.now();
      if (left <= 0) throw timeoutError(what, timeout);
      if (!sleeping) {
        Atomics.add(view, index + 1, 1);
        sleeping = true;
        continue;
      }
      await futexWaitAsync(view, index, next.expected, {
        timeout: Math.min(left, sliceMs),
        signal: options.signal,
      });
    }
  } finally {
    if (sleeping) Atomics.sub(view, index + 1, 1);
  }
}

/** Wakes `count` sleepers on the word if any are registered (a cheap load when none are). */
export function wakeSleepers(word: WaitWord, count: number): void {
  if (Atomics.load(word.view, word.index + 1) > 0) futexNotify(word.view, word.index, count);
}
