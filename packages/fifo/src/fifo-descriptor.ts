import { closeSync, constants, fstatSync, openSync } from "node:fs";
import { IpcError, IpcErrorCode, type WaitOptions } from "@ipc/core";
import { cancellableWait } from "@ipc/core/transport";
import { notAFifo } from "./create-fifo.js";
import { FifoErrorCode } from "./errors.js";

/** Longest pause between attempts while a writer waits for a reader. */
const MAX_POLL_INTERVAL_MS = 50;

/** open(2) with O_NONBLOCK, which returns at once for FIFOs (synchronously: no threadpool thread). */
export function openFifoDescriptor(path: string, access: number): number {
  let fd: number;
  try {
    // libuv adds O_CLOEXEC itself: children never inherit the descriptor.
    fd = openSync(path, access | constants.O_NONBLOCK);
  } catch (error) {
    throw openError(error as NodeJS.ErrnoException, path);
  }
  if (!fstatSync(fd).isFIFO()) {
    closeQuietly(fd);
    throw notAFifo(path, "not a FIFO");
  }
  return fd;
}

/** Retries the non-blocking open for writing while there is no reader (ENXIO), backing off up to 50 ms. */
export function waitForReader(path: string, options: WaitOptions): Promise<number> {
  return cancellableWait<number>(`open ${path} for writing (waiting for a reader)`, options, (settlers) => {
    let timer: NodeJS.Timeout | undefined;
    let interval = 1;
    const attempt = () => {
      try {
        settlers.resolve(openFifoDescriptor(path, constants.O_WRONLY));
      } catch (error) {
        if ((error as IpcError).code !== FifoErrorCode.NO_READER) {
          settlers.reject(error);
          return;
        }
        interval = Math.min(MAX_POLL_INTERVAL_MS, interval * 2);
        timer = setTimeout(attempt, interval);
      }
    };
    attempt();
    return () => clearTimeout(timer);
  });
}

/** Closes `fd`, ignoring a descriptor that is already closed. */
export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed.
  }
}

function openError(error: NodeJS.ErrnoException, path: string): IpcError {
  const details = { cause: error, errno: error.code ?? "UNKNOWN", syscall: "open", path };
  switch (error.code) {
    case "ENXIO":
      return new IpcError(
        FifoErrorCode.NO_READER,
        `no process has ${path} open for reading yet; start the reader first, or open with wait: true`,
        details,
      );
    case "ENOENT":
      return new IpcError(
        FifoErrorCode.NOT_FOUND,
        `${path} does not exist; create it with createFifo(), or pass create: true`,
        details,
      );
    case "EACCES":
    case "EPERM":
      return new IpcError(
        FifoErrorCode.PERMISSION,
        `permission denied opening ${path}; FIFOs are private to their owner by default (mode 0600)`,
        details,
      );
    default:
      return new IpcError(IpcErrorCode.SYSTEM, `open ${path}: ${error.message}`, details);
  }
}
