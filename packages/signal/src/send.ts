import type { ChildProcess } from "node:child_process";
import { IpcError } from "@ipc/core";
import { toIpcError } from "@ipc/core/transport";
import { SignalErrorCode } from "./errors.js";
import { type SignalName, signalName, signalNumber } from "./signal-names.js";

/** Whom to signal: a pid, a child process, or a whole process group. */
export type SignalTarget = number | ChildProcess | { group: number };

/**
 * Sends `signal` (a name or a number) to a process, a child, or every process of a group.
 * @throws `ERR_IPC_SIGNAL_UNKNOWN`, `ERR_IPC_SIGNAL_INVALID_PID`, `ERR_IPC_SIGNAL_NO_PROCESS`,
 * `ERR_IPC_SIGNAL_PERMISSION`
 */
export function sendSignal(target: SignalTarget, signal: SignalName | number = "SIGTERM"): void {
  const number = typeof signal === "number" && signal === 0 ? 0 : signalNumber(signal);
  const { pid, describe } = resolveTarget(target);
  try {
    process.kill(pid, number);
  } catch (error) {
    throw killError(error, describe, number === 0 ? "signal 0" : signalName(number));
  }
}

function resolveTarget(target: SignalTarget): { pid: number; describe: string } {
  if (typeof target === "number") {
    checkPid(target);
    return { pid: target, describe: `process ${target}` };
  }
  if ("group" in target) {
    checkGroup(target.group);
    return { pid: -target.group, describe: `process group ${target.group}` };
  }
  if (target.pid === undefined) {
    throw new IpcError(
      SignalErrorCode.NO_PROCESS,
      "that child process never started, so it cannot be signalled",
    );
  }
  // Once Node has reaped a child, its pid is free for any new process: never signal it (as child.kill()).
  if (target.exitCode !== null || target.signalCode !== null) {
    throw new IpcError(
      SignalErrorCode.NO_PROCESS,
      `child process ${target.pid} has already exited (${target.signalCode ?? `code ${target.exitCode}`}); its pid may now belong to another process, so it is not signalled`,
    );
  }
  return { pid: target.pid, describe: `child process ${target.pid}` };
}

/** Groups 0 (kill(0): the caller's own group) and 1 (kill(-1): every process the caller may signal) are not groups to target. */
function checkGroup(group: number): void {
  checkPid(group);
  if (group === 1) {
    throw new IpcError(
      SignalErrorCode.INVALID_PID,
      "{ group: 1 } would signal every process this one may signal (kill(-1)); pass the id of a real process group",
    );
  }
}

function checkPid(pid: number): void {
  if (!Number.isSafeInteger(pid) || pid <= 0) {
    throw new IpcError(
      SignalErrorCode.INVALID_PID,
      `${String(pid)} is not a process id: pass a positive integer (to signal a group, pass { group: pgid })`,
    );
  }
}

function killError(error: unknown, describe: string, signal: string): IpcError {
  const errno = (error as NodeJS.ErrnoException).code;
  if (errno === "ESRCH") {
    return new IpcError(
      SignalErrorCode.NO_PROCESS,
      `cannot send ${signal} to ${describe}: it does not exist (any more)`,
      {
        cause: error,
        errno,
        syscall: "kill",
      },
    );
  }
  if (errno === "EPERM") {
    return new IpcError(
      SignalErrorCode.PERMISSION,
      `not allowed to send ${signal} to ${describe}: it belongs to another user`,
      { cause: error, errno, syscall: "kill" },
    );
  }
  return toIpcError(error, `send ${signal} to ${describe}`);
}
