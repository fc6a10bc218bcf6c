import type { WaitOptions } from "@ipc/core";
import { cancellableWait } from "@ipc/core/transport";
import { listenableSignal, type OnSignalOptions, type SignalName } from "./signal-names.js";

/** Stops a handler; also `using`-disposable. Calling it again does nothing. */
export interface SignalDisposer {
  (): void;
  [Symbol.dispose](): void;
}

/**
 * Calls `handler` for every delivery of any of `signals`, until the returned disposer is called. While
 * any listener is installed Node's default action (usually: exit) is off; disposing the last one for a
 * signal restores it.
 * @throws `ERR_IPC_SIGNAL_UNKNOWN`, `ERR_IPC_SIGNAL_UNCATCHABLE`, `ERR_IPC_SIGNAL_RESERVED`, `ERR_IPC_UNSUPPORTED`
 */
export function onSignal(
  signals: SignalName | readonly SignalName[],
  handler: (signal: SignalName) => void,
  options: OnSignalOptions = {},
): SignalDisposer {
  const names = (Array.isArray(signals) ? signals : [signals]).map((signal) =>
    listenableSignal(signal, options),
  );
  const listener = (signal: SignalName) => handler(signal);
  for (const name of names) process.on(name, listener);
  let disposed = false;
  const dispose = () => {
    if (disposed) return;
    disposed = true;
    for (const name of names) process.off(name, listener);
  };
  return Object.assign(dispose, { [Symbol.dispose]: dispose });
}

/** Options for {@link waitForSignal}. */
export interface WaitForSignalOptions extends WaitOptions, OnSignalOptions {}

/** Options for {@link signals}. */
export interface SignalsOptions extends OnSignalOptions {
  /** Ends the iteration when it aborts. */
  signal?: AbortSignal;
}

/**
 * Resolves with the first of `signals` (one name, or a list) delivered to this process; the listener is
 * removed either way.
 * @throws `ERR_IPC_TIMEOUT`, `ERR_IPC_ABORTED`, and the refusals of {@link onSignal}
 */
export function waitForSignal(
  signals: SignalName | readonly SignalName[],
  options: WaitForSignalOptions = {},
): Promise<SignalName> {
  let stop: SignalDisposer | undefined;
  try {
    // Validate before waiting, so refusals are synchronous-looking rejections with nothing installed.
    for (const signal of Array.isArray(signals) ? signals : [signals]) listenableSignal(signal, options);
  } catch (error) {
    return Promise.reject(error);
  }
  return cancellableWait<SignalName>(`waiting for ${String(signals)}`, options, (settlers) => {
    stop = onSignal(
      signals,
      (signal) => {
        stop?.();
        settlers.resolve(signal);
      },
      options,
    );
    return () => stop?.();
  }).finally(() => stop?.());
}

/**
 * The deliveries of `signals`, in order, for `for await`; iteration ends when `options.signal` aborts or
 * the loop breaks, and the listener goes with it. Deliveries between two iterations are queued.
 */
export async function* signals(
  names: SignalName | readonly SignalName[],
  options: SignalsOptions = {},
): AsyncGenerator<SignalName, void, undefined> {
  const queue: SignalName[] = [];
  let wake: (() => void) | undefined;
  const stop = onSignal(
    names,
    (signal) => {
      queue.push(signal);
      wake?.();
    },
    options,
  );
  const onAbort = () => wake?.();
  options.signal?.addEventListener("abort", onAbort);
  try {
    for (;;) {
      while (queue.length > 0) yield queue.shift()!;
      if (options.signal?.aborted) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
  } finally {
    stop();
    options.signal?.removeEventListener("abort", onAbort);
  }
}
