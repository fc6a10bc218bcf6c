import { IpcError } from "@ipc/core";
import { processAlive as alive } from "@ipc/core/transport";
import { SignalErrorCode } from "./errors.js";

/**
 * True while process `pid` exists and has not exited (even if this process may not signal it); an
 * exited child not yet reaped (a zombie) counts as gone. @throws `ERR_IPC_SIGNAL_INVALID_PID`
 */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) {
    throw new IpcError(
      SignalErrorCode.INVALID_PID,
      `${String(pid)} is not a process id: pass a positive integer`,
    );
  }
  return alive(pid);
}
