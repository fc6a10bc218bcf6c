import { onSignal, type SignalDisposer } from "./listen.js";
import type { OnSignalOptions, SignalName } from "./signal-names.js";

/** Options for {@link onDoorbell}. */
export interface OnDoorbellOptions extends OnSignalOptions {
  /** Told when a drain throws (the next ring drains again). */
  onError?: (error: unknown) => void;
}

/**
 * "Signal as doorbell": calls `drain` when `signal` rings, where `drain` reads everything waiting in the
 * place the data lives (a file, a channel, shared memory). Rings that arrive while a drain runs are merged
 * into one more drain afterwards, so no ring is missed and drains never overlap. Returns a disposer.
 */
export function onDoorbell(
  signal: SignalName,
  drain: () => unknown,
  options: OnDoorbellOptions = {},
): SignalDisposer {
  let draining = false;
  let rungAgain = false;
  const run = async () => {
    if (draining) {
      rungAgain = true;
      return;
    }
    draining = true;
    try {
      do {
        rungAgain = false;
        try {
          await drain();
        } catch (error) {
          options.onError?.(error);
        }
      } while (rungAgain);
    } finally {
      draining = false;
    }
  };
  return onSignal(signal, () => void run(), options);
}
