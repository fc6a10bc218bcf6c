import type { WaitOptions } from "./wait.js";

/**
 * The time left of a wait that spans several steps (reconnect, then receive; reopen, then receive).
 * A `timeout` of undefined or Infinity never runs out.
 */
export class Deadline {
  readonly #at: number;

  constructor(timeout: number | undefined) {
    this.#at = timeout === undefined ? Number.POSITIVE_INFINITY : performance.now() + timeout;
  }

  /** Milliseconds left (never negative), or undefined when there is no limit. */
  remaining(): number | undefined {
    if (this.#at === Number.POSITIVE_INFINITY) return undefined;
    return Math.max(0, this.#at - performance.now());
  }

  /** True once the time is up. */
  get expired(): boolean {
    return performance.now() >= this.#at;
  }

  /** Wait options for the next step: the same signal, with the time left. */
  options(signal: AbortSignal | undefined): WaitOptions {
    return { signal, timeout: this.remaining() };
  }
}

/**
 * Resolves with what `promise` resolves to, or with `fallback` after `timeoutMs`, whichever comes first;
 * the timer never outlives the race. Rejections of `promise` pass through.
 */
export async function raceTimeout<T, F>(promise: Promise<T>, timeoutMs: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<F>((resolve) => {
    timer = setTimeout(() => resolve(fallback), timeoutMs);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves after `ms`, or at once when `signal` aborts (it never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
