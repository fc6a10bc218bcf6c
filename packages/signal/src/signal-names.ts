import { constants } from "node:os";
import { IpcError, IpcErrorCode } from "@ipc/core";
import { SignalErrorCode } from "./errors.js";

/** A signal name Node knows on this platform (`"SIGTERM"`, ...). */
export type SignalName = NodeJS.Signals;

const NUMBERS = constants.signals as Record<string, number>;
const NAMES = new Map(Object.entries(NUMBERS).map(([name, number]) => [number, name as SignalName]));

/** Signals no process can catch. */
const UNCATCHABLE = new Set(["SIGKILL", "SIGSTOP"]);
/** Signals Windows can deliver to Node at all. */
const WINDOWS_HANDLED = new Set(["SIGINT", "SIGBREAK", "SIGHUP", "SIGWINCH"]);

/** The name of a signal given by name or number. @throws `ERR_IPC_SIGNAL_UNKNOWN` */
export function signalName(signal: SignalName | number | string): SignalName {
  if (typeof signal === "number") {
    const name = NAMES.get(signal);
    if (name !== undefined) return name;
  } else if (typeof signal === "string" && Object.hasOwn(NUMBERS, signal)) {
    return signal as SignalName;
  }
  throw new IpcError(
    SignalErrorCode.UNKNOWN,
    `${JSON.stringify(signal)} is not a signal on ${process.platform}; use a name such as "SIGTERM" or its number (kill -l lists them)`,
  );
}

/** The number of a signal given by name or number. @throws `ERR_IPC_SIGNAL_UNKNOWN` */
export function signalNumber(signal: SignalName | number | string): number {
  return NUMBERS[signalName(signal)]!;
}

/** Options for {@link onSignal}, and for everything else that listens for signals. */
export interface OnSignalOptions {
  /** Allow SIGUSR1, which Node uses to start its inspector (a listener may keep the debugger from starting). @default false */
  allowInspectorSignal?: boolean;
}

/**
 * Checks that this process may listen for `signal`.
 * @throws `ERR_IPC_SIGNAL_UNKNOWN`, `ERR_IPC_SIGNAL_UNCATCHABLE`, `ERR_IPC_SIGNAL_RESERVED`, `ERR_IPC_UNSUPPORTED`
 */
export function listenableSignal(
  signal: SignalName | number | string,
  options: OnSignalOptions = {},
): SignalName {
  const name = signalName(signal);
  if (UNCATCHABLE.has(name)) {
    throw new IpcError(
      SignalErrorCode.UNCATCHABLE,
      `${name} cannot be caught by any process: the kernel acts on it directly. Use SIGTERM for a request to stop`,
    );
  }
  if (name === "SIGUSR1" && !options.allowInspectorSignal) {
    throw new IpcError(
      SignalErrorCode.RESERVED,
      "SIGUSR1 starts Node's inspector (debugger); listening for it may keep the debugger from starting. Use SIGUSR2, or pass allowInspectorSignal: true",
    );
  }
  if (process.platform === "win32" && !WINDOWS_HANDLED.has(name)) {
    throw new IpcError(
      IpcErrorCode.UNSUPPORTED,
      `${name} cannot be received on Windows; only SIGINT, SIGBREAK, SIGHUP and SIGWINCH can`,
    );
  }
  return name;
}
