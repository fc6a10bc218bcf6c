import { constants } from "node:os";
import { IpcError, IpcErrorCode, type WaitOptions } from "@ipc/core";
import { abortedError, checkWaitOptions } from "@ipc/core/transport";
import { type NativeShm, nativeShm } from "./native.js";

/** How a futex wait ended, as `Atomics.wait` reports it. */
export type FutexWaitResult = "ok" | "not-equal" | "timed-out";

const { EAGAIN, ETIMEDOUT, EINVAL, ECANCELED } = constants.errno;

/**
 * `Atomics.wait` across processes: blocks this thread while `view[index]` is `value`, until
 * {@link futexNotify} from any process that maps the same memory, or `timeout` ms. Spurious "ok" is
 * possible: re-check the word. For worker threads and synchronous code; the event loop is blocked.
 * @throws `ERR_IPC_INVALID_ARGUMENT` for a view not over 4-byte-aligned shared memory
 */
export function futexWait(
  view: Int32Array,
  index: number,
  value: number,
  timeout = Number.POSITIVE_INFINITY,
): FutexWaitResult {
  const result = nativeShm().wait(view.buffer as ArrayBuffer, wordOffset(view, index), value, timeout);
  if (result === 0) return "ok";
  if (result === EAGAIN) return "not-equal";
  if (result === ETIMEDOUT) return "timed-out";
  throw waitFailure(result, index);
}

/** `Atomics.notify` across processes: wakes up to `count` waiters on `view[index]`; returns how many woke. */
export function futexNotify(view: Int32Array, index: number, count = Number.POSITIVE_INFINITY): number {
  const woken = nativeShm().wake(view.buffer as ArrayBuffer, wordOffset(view, index), count);
  if (woken < 0) throw waitFailure(-woken, index);
  return woken;
}

interface PendingWait {
  resolve(result: FutexWaitResult): void;
  reject(error: unknown): void;
  // Keeps the memory mapped while a waiter thread sleeps on it.
  readonly buffer: ArrayBuffer;
}

const pending = new Map<number, PendingWait>();
let nextId = 1;
let callbackSet: NativeShm | undefined;

/**
 * `Atomics.waitAsync` across processes: resolves when `view[index]` may no longer be `value` ("ok" after
 * a notify, "not-equal" at once) or "timed-out" after `timeout` ms. The wait sleeps on a thread of the
 * addon's own, never on libuv's pool (so `fs` and `dns` are never starved), and keeps the process alive
 * only while pending. @throws `ERR_IPC_ABORTED` when `signal` aborts, `ERR_IPC_CLOSED` when the
 * segment is closed during the wait
 */
export function futexWaitAsync(
  view: Int32Array,
  index: number,
  value: number,
  options: WaitOptions = {},
): Promise<FutexWaitResult> {
  try {
    checkWaitOptions(options, "futexWaitAsync");
  } catch (error) {
    return Promise.reject(error);
  }
  const native = nativeShm();
  if (callbackSet !== native) {
    native.setWaitCallback(settleWait);
    callbackSet = native;
  }
  const offset = wordOffset(view, index);
  if (Atomics.load(view, index) !== value) return Promise.resolve("not-equal");
  const id = nextId;
  nextId = nextId >= 0x7fff_ffff ? 1 : nextId + 1;
  const { signal } = options;
  return new Promise<FutexWaitResult>((resolve, reject) => {
    const onAbort = () => {
      pending.delete(id);
      native.cancelWait(id);
      reject(abortedError("futexWaitAsync", signal!));
    };
    const done = () => signal?.removeEventListener("abort", onAbort);
    pending.set(id, {
      resolve: (result) => {
        done();
        resolve(result);
      },
      reject: (error) => {
        done();
        reject(error);
      },
      buffer: view.buffer as ArrayBuffer,
    });
    const started = native.waitAsync(view.buffer as ArrayBuffer, offset, value, options.timeout ?? -1, id);
    if (started !== 0) {
      pending.delete(id);
      reject(waitFailure(started, index));
      return;
    }
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function settleWait(id: number, result: number): void {
  const wait = pending.get(id);
  if (wait === undefined) return; // aborted already
  pending.delete(id);
  if (result === 0) wait.resolve("ok");
  else if (result === EAGAIN) wait.resolve("not-equal");
  else if (result === ETIMEDOUT) wait.resolve("timed-out");
  else if (result === ECANCELED)
    wait.reject(new IpcError(IpcErrorCode.CLOSED, "the shared memory was closed during the wait"));
  else wait.reject(new IpcError(IpcErrorCode.SYSTEM, `futex wait failed with errno ${result}`));
}

function wordOffset(view: Int32Array, index: number): number {
  if (!(view instanceof Int32Array) || !Number.isInteger(index) || index < 0 || index >= view.length) {
    throw new IpcError(
      IpcErrorCode.INVALID_ARGUMENT,
      `a futex word is an index into an Int32Array, got index ${String(index)}`,
    );
  }
  return view.byteOffset + index * 4;
}

function waitFailure(errno: number, index: number): IpcError {
  if (errno === EINVAL) {
    return new IpcError(
      IpcErrorCode.INVALID_ARGUMENT,
      `cannot wait on word ${index} of this Int32Array: it must be over a mapped segment (not closed) at a 4-byte-aligned offset`,
    );
  }
  return new IpcError(IpcErrorCode.SYSTEM, `futex on word ${index} failed with errno ${errno}`);
}
