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
  /** A `Process` asked to do what its state does not allow (started twice, joined before it started). */
  PROCESS_STATE: "ERR_IPC_PIPE_PROCESS_STATE",
  /** A `Process` target (or subclass) is not exported by a module the child can import. */
  NOT_EXPORTED: "ERR_IPC_PIPE_NOT_EXPORTED",
} as const;

/** A code defined by @ipc/pipe. */
export type PipeErrorCode = (typeof PipeErrorCode)[keyof typeof PipeErrorCode];
