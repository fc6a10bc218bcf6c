import { IpcError, IpcErrorCode } from "./errors.js";

/**
 * Bytes that a group of channels (a listener's connections) may hold together for readers that have
 * not taken them yet: buffered messages and frames still arriving. A channel that would push the group
 * over the limit is closed with `ERR_IPC_LIMIT`, so what peers send never grows memory past it, whatever
 * their number.
 */
export class ReceiveBudget {
  /** The most bytes the group may hold. */
  readonly limit: number;
  #used = 0;

  constructor(limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new IpcError(
        IpcErrorCode.INVALID_ARGUMENT,
        `a receive budget must be a positive integer number of bytes, got ${String(limit)}`,
      );
    }
    this.limit = limit;
  }

  /** Bytes held now. */
  get used(): number {
    return this.#used;
  }

  /** Changes one member's charge from `from` to `to` bytes; false (nothing changed) when that would go over the limit. */
  charge(from: number, to: number): boolean {
    const next = this.#used - from + to;
    if (to > from && next > this.limit) return false;
    this.#used = next;
    return true;
  }
}
