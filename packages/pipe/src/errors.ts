/** Error codes of @ipc/pipe, beside @ipc/core's (`ERR_IPC_PEER_GONE`, `ERR_IPC_UNSUPPORTED`, ...). */
export const PipeErrorCode = {
  /** The command could not be started (not found, not executable, bad cwd); `errno` says why. */
  SPAWN: "ERR_IPC_PIPE_SPAWN",
  /** A Node child started with `forkWithPipes` exited before it opened its pipes. */
  EARLY_EXIT: "ERR_IPC_PIPE_EARLY_EXIT",
  /** A descriptor named in `IPC_PIPES` is not a pipe or socket in this process. */
  NOT_A_PIPE: "ERR_IPC_PIPE_NOT_A_PIPE",
  /** This process was not started with pipes from a parent (`IPC_PIPES` is missing or malformed). */
  NO_PARENT: "ERR_IPC_PIPE_NO_PARENT",
} as const;

/** A code defined by @ipc/pipe. */
export type PipeErrorCode = (typeof PipeErrorCode)[keyof typeof PipeErrorCode];
