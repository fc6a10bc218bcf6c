/** The least a receive spins by default before it sleeps, in milliseconds: 20 µs. */
export const ADAPTIVE_MIN_SPIN_MS = 0.02;
/** The most a receive spins by default before it sleeps, in milliseconds: 250 µs of the event loop. */
export const ADAPTIVE_MAX_SPIN_MS = 0.25;
/** Waits remembered to choose the next spin. */
const REMEMBERED = 8;

/**
 * How long a receive spins on its ring before it sleeps. Fixed when the caller chose (`spin`), else
 * adaptive: it remembers how long the last waits took until the message came, and spins a little longer
 * than most of them (1.5 × the third-longest of the last 8) when that fits within 250 µs, so replies that
 * come quickly are caught without a futex wake-up; for a peer that answers slower than that it spins only
 * the minimum (20 µs), leaving the CPU to others and sleeping at once.
 */
export class SpinPolicy {
  readonly adaptive: boolean;
  #spinMs: number;
  readonly #waits: number[] = [];
  #next = 0;

  constructor(fixedMs: number | undefined) {
    this.adaptive = fixedMs === undefined;
    this.#spinMs = fixedMs ?? ADAPTIVE_MIN_SPIN_MS;
  }

  /** Milliseconds the next wait spins. */
  get spinMs(): number {
    return this.#spinMs;
  }

  /** A wait for a message ended after `ms` milliseconds (0 when the message was already there). */
  observe(ms: number): void {
    if (!this.adaptive) return;
    if (this.#waits.length < REMEMBERED) this.#waits.push(ms);
    else this.#waits[this.#next] = ms;
    this.#next = (this.#next + 1) % REMEMBERED;
    const sorted = [...this.#waits].sort((a, b) => a - b);
    const typical = sorted[Math.floor(sorted.length * 0.75)] ?? 0;
    const wanted = typical * 1.5;
    this.#spinMs =
      wanted <= ADAPTIVE_MAX_SPIN_MS ? Math.max(ADAPTIVE_MIN_SPIN_MS, wanted) : ADAPTIVE_MIN_SPIN_MS;
  }
}
