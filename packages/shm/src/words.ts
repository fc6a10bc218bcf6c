import { IpcError, IpcErrorCode } from "@ipc/core";

/** The Int32 words `count` long at `byteOffset` of shared memory, checked to fit and be 8-byte aligned. */
export function wordsAt(buffer: ArrayBuffer, byteOffset: number, count: number, what: string): Int32Array {
  if (!(buffer instanceof ArrayBuffer)) {
    throw new IpcError(IpcErrorCode.INVALID_ARGUMENT, `${what}: expected a segment's buffer`);
  }
  if (!Number.isSafeInteger(byteOffset) || byteOffset < 0 || byteOffset % 8 !== 0) {
    throw new IpcError(
      IpcErrorCode.INVALID_ARGUMENT,
      `${what}: byteOffset must be a non-negative multiple of 8, got ${String(byteOffset)}`,
    );
  }
  if (byteOffset + count * 4 > buffer.byteLength) {
    throw new IpcError(
      IpcErrorCode.INVALID_ARGUMENT,
      `${what}: ${count * 4} bytes at offset ${byteOffset} do not fit in ${buffer.byteLength} bytes`,
    );
  }
  return new Int32Array(buffer, byteOffset, count);
}
