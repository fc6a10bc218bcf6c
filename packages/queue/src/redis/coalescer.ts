/**
 * Requests made while one is out go together in the next (one round trip for many; the first goes at
 * once). Order is kept; a failed request fails every call in it.
 */
export class Coalescer<I, R> {
  readonly #send: (inputs: readonly I[]) => Promise<readonly R[]>;
  readonly #max: number;
  #waiting: { input: I; resolve(result: R): void; reject(error: unknown): void }[] = [];
  #running = false;

  constructor(send: (inputs: readonly I[]) => Promise<readonly R[]>, max: number) {
    this.#send = send;
    this.#max = max;
  }

  add(input: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#waiting.push({ input, resolve, reject });
      if (!this.#running) {
        this.#running = true;
        process.nextTick(() => void this.#run()); // after this tick: the calls made in it go together
      }
    });
  }

  async #run(): Promise<void> {
    while (this.#waiting.length > 0) {
      const batch = this.#waiting.splice(0, this.#max);
      try {
        const results = await this.#send(batch.map((call) => call.input));
        for (const [i, call] of batch.entries()) call.resolve(results[i]!);
      } catch (error) {
        for (const call of batch) call.reject(error);
      }
    }
    this.#running = false;
  }
}
