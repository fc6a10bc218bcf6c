/** The least a receive spins by default before it sleeps, in milliseconds: 20 µs. */
export const ADAPTIVE_MIN_SPIN_MS = 0.02;
/** The most a receive spins by default before it sleeps, in milliseconds: 250 µs of the event loop. */
export const ADAPTIVE_MAX_SPIN_MS = 0.25;
/** Waits remembered to choose the next spin. */
const REMEMBERED = 8;

/**
 * How long a receive spins on its ring before it sleeps. Fixed when the caller chose (`spin`), else
 * adaptive: it remembers how long the last waits took until the message came, and spins a little longer
 * than most of them (1.5 × the second-longest of the last 8, chosen again every 8 waits) when that fits
 * within 250 µs, so replies that come quickly are caught without sleeping; for a peer that answers slower
 * than that it spins only the minimum (20 µs), leaving the CPU to others and sleeping at once.
 */
export class SpinPolicy {
  readonly adaptive: boolean;
  #spinMs: number;
  readonly #waits = new Float64Array(REMEMBERED);
  readonly #sorted = new Float64Array(REMEMBERED);
  #next = 0;

  constructor(fixedMs: number | undefined) {
    this.adaptive = fixedMs === undefined;
    this.#spinMs = fixedMs ?? ADAPTIVE_MIN_SPIN_MS;
  }

  /** Milliseconds the next wait spins. */
  get spinMs(): number {
    return this.#spinMs;
  }

  /**
   * A wait for a message ended after `ms` milliseconds (0 when the message was already there). The spin is
   * chosen again after every 8 waits: a receive that keeps up with its sender observes once per message,
   * and sorting per message cost more than the rest of taking it.
   */
  observe(ms: number): void {
    if (!this.adaptive) return;
    this.#waits[this.#next] = ms;
    this.#next = (this.#next + 1) % REMEMBERED;
    if (this.#next !== 0) return;
    const sorted = this.#sorted;
    sorted.set(this.#waits);
    sorted.sort();
    const wanted = sorted[Math.floor(REMEMBERED * 0.75)]! * 1.5;
    this.#spinMs =
      wanted <= ADAPTIVE_MAX_SPIN_MS ? Math.max(ADAPTIVE_MIN_SPIN_MS, wanted) : ADAPTIVE_MIN_SPIN_MS;
  }
}
