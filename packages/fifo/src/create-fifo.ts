import { execFile } from "node:child_process";
import { constants, lstatSync, unlinkSync } from "node:fs";
import { access, lstat } from "node:fs/promises";
import { dirname } from "node:path";
import { IpcError } from "@ipc/core";
import { toIpcError } from "@ipc/core/transport";
import { FifoErrorCode } from "./errors.js";
import { checkTrusted, type FifoTrust, unsafe } from "./trust.js";

/** Mode of a FIFO this package creates unless `mode` says otherwise: owner only. */
export const DEFAULT_FIFO_MODE = 0o600;

/** Options for {@link createFifo}. */
export interface CreateFifoOptions {
  /** Permission bits, applied exactly (whatever the umask). @default 0o600 */
  mode?: number;
  /** Fail with `ERR_IPC_FIFO_EXISTS` if the path exists; otherwise an existing FIFO is reused, if trusted. @default true */
  exclusive?: boolean;
  /** Which existing FIFO may be reused (see `FifoTrust`). @default "owner" */
  trust?: FifoTrust;
}

/**
 * Creates a FIFO at `path` with the system's `mkfifo` (run without a shell; its output is never parsed:
 * the outcome is read from the file system). Resolves with `true` when it created it, `false` when it
 * reused an existing FIFO (`exclusive: false`).
 * @throws `ERR_IPC_FIFO_EXISTS`, `ERR_IPC_FIFO_NOT_A_FIFO`, `ERR_IPC_FIFO_NOT_FOUND` (no such directory),
 * `ERR_IPC_FIFO_PERMISSION`, `ERR_IPC_SYSTEM`
 */
export async function createFifo(path: string, options: CreateFifoOptions = {}): Promise<boolean> {
  const mode = options.mode ?? DEFAULT_FIFO_MODE;
  const existing = await lstat(path).catch(() => undefined);
  if (existing !== undefined) {
    if (existing.isSymbolicLink() && options.trust !== "any") throw unsafe(path, "it is a symbolic link");
    if (!existing.isFIFO()) throw notAFifo(path, existing.isDirectory() ? "a directory" : "not a FIFO");
    if (options.exclusive ?? true) {
      throw new IpcError(
        FifoErrorCode.EXISTS,
        `${path} already exists; remove it, choose another path, or pass exclusive: false to reuse it`,
        { errno: "EEXIST", syscall: "mkfifo", path },
      );
    }
    checkTrusted(existing, path, options.trust);
    return false;
  }
  const directory = dirname(path);
  const dirStat = await lstat(directory).catch(() => undefined);
  if (dirStat === undefined || !dirStat.isDirectory()) {
    throw new IpcError(
      FifoErrorCode.NOT_FOUND,
      `cannot create ${path}: the directory ${directory} does not exist`,
      {
        errno: "ENOENT",
        syscall: "mkfifo",
        path,
      },
    );
  }
  try {
    await access(directory, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new IpcError(
      FifoErrorCode.PERMISSION,
      `cannot create ${path}: no write permission on ${directory}`,
      {
        cause: error,
        errno: "EACCES",
        syscall: "mkfifo",
        path,
      },
    );
  }
  // mkfifo -m sets the mode exactly (it is not filtered by the umask). "--" ends options, so a path
  // starting with "-" is still a path.
  const failure = await new Promise<Error | null>((resolve) =>
    execFile("mkfifo", ["-m", mode.toString(8), "--", path], { shell: false, timeout: 10_000 }, resolve),
  );
  const created = await lstat(path).catch(() => undefined);
  if (created?.isFIFO()) return true;
  if (created !== undefined) throw notAFifo(path, "not a FIFO (something else was created there meanwhile)");
  throw toIpcError(failure ?? new Error("mkfifo did not create it"), `mkfifo ${path}`);
}

/** Removes the name of the FIFO at `path` if it is one (never anything else); processes that have it open keep using it. */
export function unlinkFifo(path: string): void {
  try {
    if (lstatSync(path).isFIFO()) unlinkSync(path);
  } catch {
    // Gone already: the goal is met.
  }
}

/** `ERR_IPC_FIFO_NOT_A_FIFO` for `path`, which is `what`. */
export function notAFifo(path: string, what: string): IpcError {
  return new IpcError(
    FifoErrorCode.NOT_A_FIFO,
    `${path} is ${what}; @ipc/fifo only opens FIFOs (named pipes)`,
    {
      path,
    },
  );
}
