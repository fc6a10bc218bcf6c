import { closeSync, constants, fstatSync, lstatSync, openSync, type Stats } from "node:fs";
import { IpcError, IpcErrorCode, type WaitOptions } from "@ipc/core";
import { cancellableWait } from "@ipc/core/transport";
import { notAFifo } from "./create-fifo.js";
import { FifoErrorCode } from "./errors.js";
import { checkTrusted, type FifoTrust, unsafe } from "./trust.js";

/** Longest pause between attempts while a writer waits for a reader. */
const MAX_POLL_INTERVAL_MS = 50;

/**
 * open(2) with O_NONBLOCK, which returns at once for FIFOs (synchronously: no threadpool thread), and
 * O_NOFOLLOW unless `trust` is "any". What was opened is checked on the descriptor itself (a FIFO, and
 * trusted), so the path cannot be swapped between the check and the use.
 */
export function openFifoDescriptor(path: string, access: number, trust: FifoTrust | undefined): number {
  let fd: number;
  const noFollow = trust === "any" ? 0 : constants.O_NOFOLLOW;
  // Checked before opening too: a sender's open fails with ENXIO while nobody reads, and an untrusted
  // FIFO must be refused as such whether or not someone is reading it.
  checkPath(path, trust);
  try {
    // libuv adds O_CLOEXEC itself: children never inherit the descriptor.
    fd = openSync(path, access | constants.O_NONBLOCK | noFollow);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ELOOP") throw unsafe(path, "it is a symbolic link");
    throw openError(error as NodeJS.ErrnoException, path);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFIFO()) throw notAFifo(path, "not a FIFO");
    checkTrusted(stat, path, trust);
  } catch (error) {
    closeQuietly(fd);
    throw error;
  }
  return fd;
}

/** Refuses what is at `path` before it is opened: a symlink or an untrusted FIFO (nothing there: open reports it). */
function checkPath(path: string, trust: FifoTrust | undefined): void {
  if (trust === "any") return;
  let stat: Stats;
  try {
    stat = lstatSync(path);
  } catch {
    return;
  }
  if (stat.isSymbolicLink()) throw unsafe(path, "it is a symbolic link");
  if (stat.isFIFO()) checkTrusted(stat, path, trust);
}

/** Retries the non-blocking open for writing while there is no reader (ENXIO), backing off up to 50 ms. */
export function waitForReader(
  path: string,
  options: WaitOptions,
  trust: FifoTrust | undefined,
): Promise<number> {
  return cancellableWait<number>(`open ${path} for writing (waiting for a reader)`, options, (settlers) => {
    let timer: NodeJS.Timeout | undefined;
    let interval = 1;
    const attempt = () => {
      try {
        settlers.resolve(openFifoDescriptor(path, constants.O_WRONLY, trust));
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
