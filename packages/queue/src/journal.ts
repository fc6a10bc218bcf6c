import { corrupt } from "./corrupt.js";

/** The points of a commit where the kill tests stop a process (fault injection; never set in production). */
export type CommitStage = "staged" | "committed" | "applying" | "applied";

let fault: ((stage: CommitStage) => void) | undefined;

/** Tests only: calls `hook` at each stage of every commit in this process (it may kill the process). @internal */
export function injectCommitFault(hook: ((stage: CommitStage) => void) | undefined): void {
  fault = hook;
}

/**
 * A redo journal in shared memory for the words one lock guards, so that a process killed at any instant
 * inside the lock leaves nothing half-done: an update is staged here, committed by one store, applied,
 * then cleared. Whoever takes the lock from a dead holder calls {@link recover}, which applies a
 * committed update again (every entry is an absolute value, so applying twice is harmless) and ignores an
 * uncommitted one. Layout at `at`: valid, count, then `max` pairs of (word index, value).
 */
export class Journal {
  readonly #words: Int32Array;
  readonly #at: number;
  readonly #max: number;
  readonly #allowed: (index: number) => boolean;
  readonly #indexes: Int32Array;
  readonly #values: Int32Array;
  #count = 0;

  /** `allowed` says which word indexes an entry may name: recovery checks entries read from shared memory. */
  constructor(words: Int32Array, at: number, max: number, allowed: (index: number) => boolean) {
    this.#words = words;
    this.#at = at;
    this.#max = max;
    this.#allowed = allowed;
    this.#indexes = new Int32Array(max);
    this.#values = new Int32Array(max);
  }

  /** The value of word `index` as this update leaves it (staged, or as it is); the lock must be held. */
  get(index: number): number {
    for (let i = this.#count - 1; i >= 0; i--) if (this.#indexes[i] === index) return this.#values[i]!;
    return this.#words[index]!; // a word this journal's lock guards: the lock orders it
  }

  /** Stages word `index` = `value`; updates apply in the order staged. */
  set(index: number, value: number): void {
    const indexes = this.#indexes;
    const count = this.#count;
    for (let i = 0; i < count; i++) {
      if (indexes[i] === index) {
        this.#values[i] = value;
        return;
      }
    }
    if (count === this.#max) throw new Error(`journal overflow: more than ${this.#max} words in one update`);
    indexes[count] = index;
    this.#values[count] = value;
    this.#count = count + 1;
  }

  /** Commits and applies what was staged. */
  commit(): void {
    const words = this.#words;
    const at = this.#at;
    const count = this.#count;
    if (count === 0) return;
    const indexes = this.#indexes;
    const values = this.#values;
    // Plain stores: the commit point's atomic store below orders them before it for every reader.
    for (let i = 0; i < count; i++) {
      words[at + 2 + 2 * i] = indexes[i]!;
      words[at + 3 + 2 * i] = values[i]!;
    }
    words[at + 1] = count;
    fault?.("staged");
    Atomics.store(words, at, 1); // the commit point
    fault?.("committed");
    // Applied in order, the last atomically: a process that reads that word without the lock (the tail,
    // the floor) sees every word applied before it. The lock's release orders the rest for the next holder.
    const last = count - 1;
    for (let i = 0; i < last; i++) {
      words[indexes[i]!] = values[i]!;
      fault?.("applying");
    }
    Atomics.store(words, indexes[last]!, values[last]!);
    fault?.("applied");
    Atomics.store(words, at, 0);
    this.#count = 0;
  }

  /**
   * Commits an update of exactly two words (nothing else staged), `second` last and atomically: the
   * producers' hot path (the count, then the tail).
   */
  commitTwo(first: number, firstValue: number, second: number, secondValue: number): void {
    const words = this.#words;
    const at = this.#at;
    words[at + 2] = first;
    words[at + 3] = firstValue;
    words[at + 4] = second;
    words[at + 5] = secondValue;
    words[at + 1] = 2;
    fault?.("staged");
    Atomics.store(words, at, 1);
    fault?.("committed");
    words[first] = firstValue;
    fault?.("applying");
    Atomics.store(words, second, secondValue);
    fault?.("applied");
    Atomics.store(words, at, 0);
  }

  /** Commits an update of exactly three words (nothing else staged), `third` last and atomically. */
  commitThree(
    first: number,
    firstValue: number,
    second: number,
    secondValue: number,
    third: number,
    thirdValue: number,
  ): void {
    const words = this.#words;
    const at = this.#at;
    words[at + 2] = first;
    words[at + 3] = firstValue;
    words[at + 4] = second;
    words[at + 5] = secondValue;
    words[at + 6] = third;
    words[at + 7] = thirdValue;
    words[at + 1] = 3;
    fault?.("staged");
    Atomics.store(words, at, 1);
    fault?.("committed");
    words[first] = firstValue;
    fault?.("applying");
    words[second] = secondValue;
    Atomics.store(words, third, thirdValue);
    fault?.("applied");
    Atomics.store(words, at, 0);
  }

  /** Drops what was staged (nothing was written). */
  discard(): void {
    this.#count = 0;
  }

  /** Finishes an update a dead holder committed but may not have applied. @throws `ERR_IPC_PROTOCOL` */
  recover(): void {
    const words = this.#words;
    const at = this.#at;
    this.discard();
    if (Atomics.load(words, at) === 0) return;
    const count = Atomics.load(words, at + 1);
    if (count < 1 || count > this.#max) throw corrupt(`a journal claims ${count} entries`);
    for (let i = 0; i < count; i++) {
      const index = Atomics.load(words, at + 2 + 2 * i);
      if (!this.#allowed(index)) throw corrupt(`a journal entry names word ${index}`);
      Atomics.store(words, index, Atomics.load(words, at + 3 + 2 * i));
    }
    Atomics.store(words, at, 0);
  }
}
