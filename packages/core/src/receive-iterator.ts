import { IpcErrorCode, isIpcError } from "./errors.js";

/**
 * An async iterator over `receive()`: yields each message, ends when `receive` rejects with
 * `ERR_IPC_CLOSED`, and throws any other error. For receivers that are not a `BaseChannel`.
 * Breaking out of the loop does not close anything.
 */
export function receiveIterator<T>(receive: () => Promise<T>): AsyncIterator<T> {
  return {
    next: async () => {
      try {
        return { done: false, value: await receive() };
      } catch (error) {
        if (isIpcError(error, IpcErrorCode.CLOSED)) return { done: true, value: undefined };
        throw error;
      }
    },
    return: async () => ({ done: true, value: undefined }),
  };
}
