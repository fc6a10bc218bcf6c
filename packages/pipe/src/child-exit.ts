import type { ChildProcess } from "node:child_process";
import { IpcError, IpcErrorCode, type PeerLife } from "@ipc/core";

/** How a child process ended. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Settles when `child` has exited (at once if it already has). */
export function exitOf(child: ChildProcess): Promise<ChildExit> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
}

/** True for a child that was killed by a signal or exited with a non-zero code. */
export function isAbnormal(exit: ChildExit): boolean {
  return exit.signal !== null || (exit.code !== null && exit.code !== 0);
}

/** Describes an exit for messages: "exit code 3" or "signal SIGKILL". */
export function describeExit(exit: ChildExit): string {
  return exit.signal !== null ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}

/** `ERR_IPC_PEER_GONE` for a child that ended abnormally, with its exit code or signal. */
export function peerGoneError(pid: number | undefined, exit: ChildExit): IpcError {
  return new IpcError(
    IpcErrorCode.PEER_GONE,
    `child process ${pid ?? "?"} ended with ${describeExit(exit)}; messages it had not yet sent are lost. Check its stderr`,
    exitDetails(exit),
  );
}

/** The `exitCode` / `signal` details of an `IpcError` about a child that ended so. */
export function exitDetails(exit: ChildExit): { exitCode?: number; signal?: string } {
  return {
    ...(exit.code === null ? {} : { exitCode: exit.code }),
    ...(exit.signal === null ? {} : { signal: exit.signal }),
  };
}

/** The child's life, for core's stream channel: an abnormal exit becomes `ERR_IPC_PEER_GONE`. */
export function childLife(child: ChildProcess, exited: Promise<ChildExit>): PeerLife {
  return { gone: exited.then((exit) => (isAbnormal(exit) ? peerGoneError(child.pid, exit) : undefined)) };
}
