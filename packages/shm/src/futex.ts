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

/** An async wait in flight: how to settle it when the addon reports its result. */
interface PendingWait {
  settle(result: number): void;
  // Keeps the memory mapped while a waiter thread sleeps on it.
  readonly buffer: ArrayBuffer;
}

/**
 * The addon reports every async wait's result through one callback, for the whole process. Every copy of
 * this package that a process loads (its ES module and CommonJS builds, say) shares the one addon, so the
 * waits in flight are kept in one table stored on the addon itself, and the callback is set once.
 */
interface WaitTable {
  readonly pending: Map<number, PendingWait>;
  nextId: number;
}

const WAIT_TABLE = Symbol.for("@ipc/shm.asyncWaits.v1");

function waitTable(native: NativeShm): WaitTable {
  const holder = native as unknown as Record<symbol, WaitTable | undefined>;
  let table = holder[WAIT_TABLE];
  if (table === undefined) {
    const created: WaitTable = { pending: new Map(), nextId: 1 };
    Object.defineProperty(native, WAIT_TABLE, { value: created });
    native.setWaitCallback((id, result) => {
      const wait = created.pending.get(id);
      if (wait === undefined) return; // aborted already
      created.pending.delete(id);
      wait.settle(result);
    });
    table = created;
  }
  return table;
}

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
  const table = waitTable(native);
  const offset = wordOffset(view, index);
  if (Atomics.load(view, index) !== value) return Promise.resolve("not-equal");
  const id = table.nextId;
  table.nextId = id >= 0x7fff_ffff ? 1 : id + 1;
  const { signal } = options;
  const pending = table.pending;
  return new Promise<FutexWaitResult>((resolve, reject) => {
    const onAbort = () => {
      pending.delete(id);
      native.cancelWait(id);
      reject(abortedError("futexWaitAsync", signal!));
    };
    pending.set(id, {
      settle: (result) => {
        signal?.removeEventListener("abort", onAbort);
        settleWait(result, resolve, reject);
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

/** Settles an async wait with what the addon reported. */
function settleWait(
  result: number,
  resolve: (result: FutexWaitResult) => void,
  reject: (error: unknown) => void,
): void {
  if (result === 0) resolve("ok");
  else if (result === EAGAIN) resolve("not-equal");
  else if (result === ETIMEDOUT) resolve("timed-out");
  else if (result === ECANCELED)
    reject(new IpcError(IpcErrorCode.CLOSED, "the shared memory was closed during the wait"));
  else reject(new IpcError(IpcErrorCode.SYSTEM, `futex wait failed with errno ${result}`));
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
