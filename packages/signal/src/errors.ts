/** Error codes of @ipc/signal, beside @ipc/core's (`ERR_IPC_TIMEOUT`, `ERR_IPC_ABORTED`, `ERR_IPC_UNSUPPORTED`). */
export const SignalErrorCode = {
  /** Not a signal name or number this platform knows. */
  UNKNOWN: "ERR_IPC_SIGNAL_UNKNOWN",
  /** SIGKILL and SIGSTOP cannot be caught, waited for or handled. */
  UNCATCHABLE: "ERR_IPC_SIGNAL_UNCATCHABLE",
  /** SIGUSR1 starts Node's inspector; handling it needs `allowInspectorSignal: true`. */
  RESERVED: "ERR_IPC_SIGNAL_RESERVED",
  /** The process id is not a positive integer (0 and negatives would signal whole groups). */
  INVALID_PID: "ERR_IPC_SIGNAL_INVALID_PID",
  /** No such process or process group (ESRCH). */
  NO_PROCESS: "ERR_IPC_SIGNAL_NO_PROCESS",
  /** Not allowed to signal that process (EPERM). */
  PERMISSION: "ERR_IPC_SIGNAL_PERMISSION",
} as const;

/** A code defined by @ipc/signal. */
export type SignalErrorCode = (typeof SignalErrorCode)[keyof typeof SignalErrorCode];
