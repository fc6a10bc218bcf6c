import { IpcError, IpcErrorCode } from "@ipc/core";

/** `ERR_IPC_PROTOCOL` for queue memory no correct process could have written (something scribbled over it). */
export function corrupt(why: string): IpcError {
  return new IpcError(
    IpcErrorCode.PROTOCOL,
    `the queue's shared memory is corrupt (${why}): something that is not an @ipc/queue process wrote over it; the queue cannot be used any more`,
  );
}
