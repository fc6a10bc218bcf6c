import { IpcError, IpcErrorCode } from "./errors.js";

/** How long an operation may wait: an `AbortSignal`, a timeout in milliseconds, or both. */
export interface WaitOptions {
  /** Cancels the wait; it rejects with `ERR_IPC_ABORTED` and has no effect. */
  signal?: AbortSignal | undefined;
  /** Milliseconds before the wait rejects with `ERR_IPC_TIMEOUT` and has no effect. @default Infinity */
  timeout?: number | undefined;
}

/** Builds the `ERR_IPC_ABORTED` error for a wait cancelled by `signal`. */
export function abortedError(what: string, signal: AbortSignal): IpcError {
  return new IpcError(IpcErrorCode.ABORTED, `${what} was aborted by its AbortSignal`, {
    cause: signal.reason,
  });
}

/** Builds the `ERR_IPC_TIMEOUT` error for a wait that exceeded `timeoutMs`. */
export function timeoutError(what: string, timeoutMs: number): IpcError {
  return new IpcError(
    IpcErrorCode.TIMEOUT,
    `${what} timed out after ${timeoutMs} ms; raise the timeout option or check that the peer is responding`,
  );
}

/** Throws `ERR_IPC_INVALID_ARGUMENT` unless `timeout` is undefined, a non-negative number, or Infinity. */
export function validateWaitOptions(options: WaitOptions | undefined, what: string): void {
  const timeout = options?.timeout;
  if (timeout !== undefined && (typeof timeout !== "number" || Number.isNaN(timeout) || timeout < 0)) {
    throw new IpcError(
      IpcErrorCode.INVALID_ARGUMENT,
      `${what}: timeout must be a non-negative number of milliseconds or Infinity, got ${String(timeout)}`,
    );
  }
  const signal = options?.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new IpcError(IpcErrorCode.INVALID_ARGUMENT, `${what}: signal must be an AbortSignal`);
  }
}

/** Throws what a wait with `options` would reject with before waiting: an invalid option, or an abort. */
export function checkWaitOptions(options: WaitOptions | undefined, what: string): void {
  validateWaitOptions(options, what);
  if (options?.signal?.aborted) throw abortedError(what, options.signal);
}

/** Settles a wait registered with {@link cancellableWait}. */
export interface WaitSettlers<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

/**
 * Runs a wait that ends when `register`'s settlers are called, or rejects with `ERR_IPC_ABORTED` /
 * `ERR_IPC_TIMEOUT`; on abort or timeout the function `register` returned is called to withdraw the wait.
 * Guarantees: settles exactly once, removes its abort listener and timer in every case.
 */
export function cancellableWait<T>(
  what: string,
  options: WaitOptions | undefined,
  register: (settlers: WaitSettlers<T>) => () => void,
): Promise<T> {
  try {
    checkWaitOptions(options, what);
  } catch (error) {
    return Promise.reject(error);
  }
  const signal = options?.signal;
  const timeout = options?.timeout ?? Number.POSITIVE_INFINITY;
  if (signal === undefined && timeout === Number.POSITIVE_INFINITY) {
    // Nothing can cancel this wait: skip the timer and listener bookkeeping (the common, hot case).
    return new Promise<T>((resolve, reject) => {
      register({ resolve, reject });
    });
  }

  return new Promise<T>((resolve, reject) => {
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    let withdraw: (() => void) | undefined;
    const cleanUp = () => {
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    const cancel = (error: IpcError) => {
      if (done) return;
      cleanUp();
      withdraw?.();
      reject(error);
    };
    const onAbort = () => cancel(abortedError(what, signal!));

    withdraw = register({
      resolve(value) {
        if (done) return;
        cleanUp();
        resolve(value);
      },
      reject(error) {
        if (done) return;
        cleanUp();
        reject(error);
      },
    });
    if (done) return;
    if (timeout !== Number.POSITIVE_INFINITY) {
      timer = setTimeout(() => cancel(timeoutError(what, timeout)), timeout);
    }
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The limits of a wait on their own, to race against work that cannot itself be cancelled. */
export interface WaitLimits {
  /** Rejects with `ERR_IPC_ABORTED` or `ERR_IPC_TIMEOUT` when the limits are reached (never resolves). */
  readonly expired: Promise<never>;
  /** Stops the timer and the abort listener; call it once the work is done, whichever way. */
  release(): void;
}

/** Starts the `signal`/`timeout` limits of `options` for a wait described as `what`. */
export function waitLimits(what: string, options: WaitOptions | undefined): WaitLimits {
  let release = () => {};
  const expired = cancellableWait<never>(what, options, (settlers) => {
    release = () => settlers.reject(undefined);
    return () => {};
  });
  // A released wait rejects with nothing to report; a reached limit is reported by whoever races it.
  expired.catch(() => {});
  return { expired, release: () => release() };
}
