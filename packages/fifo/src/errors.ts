/** Error codes of @ipc/fifo, beside @ipc/core's. */
export const FifoErrorCode = {
  /** The path exists and is not a FIFO (a regular file, a directory, a socket...). */
  NOT_A_FIFO: "ERR_IPC_FIFO_NOT_A_FIFO",
  /** `createFifo` with `exclusive` (the default) found something at the path already. */
  EXISTS: "ERR_IPC_FIFO_EXISTS",
  /** The FIFO does not exist (open) or its directory does not exist (create). */
  NOT_FOUND: "ERR_IPC_FIFO_NOT_FOUND",
  /** The file system refused access (EACCES / EPERM). */
  PERMISSION: "ERR_IPC_FIFO_PERMISSION",
  /** A writer opened with `wait: false` and no reader has the FIFO open (ENXIO). */
  NO_READER: "ERR_IPC_FIFO_NO_READER",
  /** The FIFO belongs to another user, others may write into it, or the path is a symlink (see `trust`). */
  UNSAFE: "ERR_IPC_FIFO_UNSAFE",
} as const;

/** A code defined by @ipc/fifo. */
export type FifoErrorCode = (typeof FifoErrorCode)[keyof typeof FifoErrorCode];
