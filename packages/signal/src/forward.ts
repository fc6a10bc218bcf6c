import { isIpcError } from "@ipc/core";
import { SignalErrorCode } from "./errors.js";
import { onSignal, type SignalDisposer } from "./listen.js";
import { type SignalTarget, sendSignal } from "./send.js";
import type { OnSignalOptions, SignalName } from "./signal-names.js";

/** Signals a supervisor passes on unless told otherwise. */
export const DEFAULT_FORWARDED_SIGNALS: readonly SignalName[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** Options for {@link forwardSignals}. */
export interface ForwardSignalsOptions extends OnSignalOptions {}

/**
 * Passes every delivery of `signals` to this process on to `targets` (children, pids, process groups);
 * targets that are gone are skipped. While forwarding, this process does not exit on those signals by
 * itself: exit when the children are done, or pair it with `onShutdown`. Returns a disposer.
 */
export function forwardSignals(
  targets: SignalTarget | readonly SignalTarget[],
  signals: readonly SignalName[] = DEFAULT_FORWARDED_SIGNALS,
  options: ForwardSignalsOptions = {},
): SignalDisposer {
  const list = Array.isArray(targets) ? targets : [targets];
  return onSignal(
    signals,
    (signal) => {
      for (const target of list) {
        try {
          sendSignal(target as SignalTarget, signal);
        } catch (error) {
          if (!isIpcError(error, SignalErrorCode.NO_PROCESS)) throw error;
        }
      }
    },
    options,
  );
}
