import type { WaitOptions } from "@ipc/core";
import { describeShared, type SharedDescription } from "@ipc/core/transport";
import { blockUntil, type Step, type WaitWord, waitUntil, wakeSleepers } from "./blocking.js";
import { describeInSegment } from "./shared-segments.js";
import { wordsAt } from "./words.js";

/** A flag in shared memory that processes wait for (8 bytes; all zeros is clear), like Python's `multiprocessing.Event`. */
export class SharedEvent {
  /** Bytes an event takes in shared memory. */
  static readonly byteLength = 8;
  readonly #word: WaitWord;

  /** The event stored at `byteOffset` (a multiple of 8) of a segment's buffer. */
  constructor(buffer: ArrayBuffer, byteOffset = 0) {
    this.#word = { view: wordsAt(buffer, byteOffset, 2, "SharedEvent"), index: 0, sleepers: 1 };
  }

  /** True once set, until cleared. */
  isSet(): boolean {
    return Atomics.load(this.#word.view, 0) !== 0;
  }

  /** Sets the flag and wakes every waiter, in every process. */
  set(): void {
    Atomics.store(this.#word.view, 0, 1);
    wakeSleepers(this.#word, Number.POSITIVE_INFINITY);
  }

  /** Clears the flag; later waits block until the next `set`. */
  clear(): void {
    Atomics.store(this.#word.view, 0, 0);
  }

  /** Returns once the flag is set, blocking this thread. @throws `ERR_IPC_TIMEOUT` */
  waitSync(options: { timeout?: number } = {}): void {
    blockUntil(this.#word, this.#step, "waitSync", options.timeout);
  }

  /** Resolves once the flag is set, without blocking the event loop. @throws `ERR_IPC_TIMEOUT`, `ERR_IPC_ABORTED` */
  async wait(options?: WaitOptions): Promise<void> {
    await waitUntil(this.#word, this.#step, "wait", options);
  }

  readonly #step = (): Step<true> =>
    Atomics.load(this.#word.view, 0) !== 0 ? { value: true } : { expected: 0 };

  /** How a child process maps the same event (`Process` args in @ipc/pipe). @internal */
  [describeShared](): SharedDescription {
    const { view } = this.#word;
    return describeInSegment(view.buffer as ArrayBuffer, "event", { byteOffset: view.byteOffset });
  }
}
