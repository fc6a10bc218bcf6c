import type { Stats } from "node:fs";
import { IpcError } from "@ipc/core";
import { FifoErrorCode } from "./errors.js";

/**
 * Whose FIFOs an end may open: `"owner"` (the default) only a FIFO this user owns, that neither its group
 * nor others may write, reached without a symlink; `"any"` whatever FIFO is at the path (FIFOs shared
 * between users on purpose).
 */
export type FifoTrust = "owner" | "any";

/**
 * Throws `ERR_IPC_FIFO_UNSAFE` when the FIFO described by `stat` (from the open descriptor, so it is the
 * one that was opened) may not be used under `trust`: another user planted it, or others could write
 * into it. Each would let another user read our messages or put words in a writer's mouth.
 */
export function checkTrusted(stat: Stats, path: string, trust: FifoTrust | undefined): void {
  if ((trust ?? "owner") === "any") return;
  const me = process.geteuid?.();
  if (me !== undefined && stat.uid !== me) {
    throw unsafe(
      path,
      `it belongs to user ${stat.uid}, not to this process's user (${me}): another user may have planted it`,
    );
  }
  if ((stat.mode & 0o022) !== 0) {
    throw unsafe(
      path,
      `its mode ${(stat.mode & 0o777).toString(8)} lets ${stat.mode & 0o020 ? "its group" : "others"} write into it`,
    );
  }
}

/** `ERR_IPC_FIFO_UNSAFE` for `path`, saying why. */
export function unsafe(path: string, why: string): IpcError {
  return new IpcError(
    FifoErrorCode.UNSAFE,
    `refusing to use the FIFO at ${path}: ${why}. Remove it and let this process create it, or pass trust: "any" if sharing it is intended`,
    { path },
  );
}
