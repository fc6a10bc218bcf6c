/** Every stable error code @ipc/core defines; transports add their own `ERR_IPC_<PACKAGE>_...` codes. */
export const IpcErrorCode = {
  /** The channel or listener is closed (locally, or by the peer with nothing left to read). */
  CLOSED: "ERR_IPC_CLOSED",
  /** A wait exceeded its `timeout`. */
  TIMEOUT: "ERR_IPC_TIMEOUT",
  /** A wait was cancelled by its `AbortSignal`. */
  ABORTED: "ERR_IPC_ABORTED",
  /** A frame is larger than `maxFrameSize`. */
  FRAME_TOO_LARGE: "ERR_IPC_FRAME_TOO_LARGE",
  /** The peer sent bytes that are not a valid frame or handshake. */
  PROTOCOL: "ERR_IPC_PROTOCOL",
  /** A well-framed message could not be decoded by the codec. */
  DECODE: "ERR_IPC_DECODE",
  /** A message could not be encoded by the codec. */
  ENCODE: "ERR_IPC_ENCODE",
  /** The peer went away mid-conversation (process died, connection reset, frame cut short). */
  PEER_GONE: "ERR_IPC_PEER_GONE",
  /** The authkey handshake failed. */
  AUTH: "ERR_IPC_AUTH",
  /** The operation is not supported by this channel, transport or platform. */
  UNSUPPORTED: "ERR_IPC_UNSUPPORTED",
  /** An invalid argument or option. */
  INVALID_ARGUMENT: "ERR_IPC_INVALID_ARGUMENT",
  /** A limit shared by many channels was reached (a listener's `maxBufferedBytes`); this channel was closed to keep it. */
  LIMIT: "ERR_IPC_LIMIT",
  /** An operating-system call failed; `errno` and `syscall` say which. */
  SYSTEM: "ERR_IPC_SYSTEM",
} as const;

/** A code defined by @ipc/core (each package exports its own `<Package>ErrorCode` the same way). */
export type IpcErrorCode = (typeof IpcErrorCode)[keyof typeof IpcErrorCode];

/** Any code of the family: core's, or a package's `ERR_IPC_<PACKAGE>_...`. */
type AnyCode = IpcErrorCode | `ERR_IPC_${string}`;

/** Extra facts an {@link IpcError} may carry. */
export interface IpcErrorDetails {
  /** The underlying error, when this one wraps another. */
  cause?: unknown;
  /** The symbolic errno (`"EPIPE"`), for system errors. */
  errno?: string;
  /** The system call that failed (`"connect"`). */
  syscall?: string;
  /** The file-system path involved. */
  path?: string;
  /** Exit code of the peer process, when it exited (ERR_IPC_PEER_GONE from a child process). */
  exitCode?: number;
  /** Signal that ended the peer process, when one did. */
  signal?: string;
}

const DETAIL_KEYS = ["errno", "syscall", "path", "exitCode", "signal"] as const;

// Registered globally so that duplicate copies of @ipc/core recognise each other's errors.
const IPC_ERROR_BRAND = Symbol.for("@ipc/core.IpcError");

/** The one error class of the @ipc family: a stable string `code` plus optional system details. */
export class IpcError extends Error {
  /** Stable, documented code; assert on this, never on `message`. */
  readonly code: AnyCode;
  // Declared, not initialised: a detail that is absent is no property at all (nothing prints as undefined).
  declare readonly errno?: string;
  declare readonly syscall?: string;
  declare readonly path?: string;
  declare readonly exitCode?: number;
  declare readonly signal?: string;

  constructor(code: AnyCode, message: string, details: IpcErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "IpcError";
    this.code = code;
    for (const key of DETAIL_KEYS) {
      if (details[key] !== undefined)
        Object.defineProperty(this, key, { value: details[key], enumerable: true });
    }
    Object.defineProperty(this, IPC_ERROR_BRAND, { value: true });
  }

  get [Symbol.toStringTag](): string {
    return "IpcError";
  }
}

/** True when `value` is an {@link IpcError} (from any copy of @ipc/core), optionally with the given `code`. */
export function isIpcError(value: unknown, code?: AnyCode): value is IpcError {
  if (typeof value !== "object" || value === null) return false;
  if ((value as Record<symbol, unknown>)[IPC_ERROR_BRAND] !== true) return false;
  return code === undefined || (value as { code?: unknown }).code === code;
}

const PEER_GONE_ERRNOS = new Set(["EPIPE", "ECONNRESET", "ECONNABORTED", "ENOTCONN"]);

/**
 * Wraps a Node system error (or anything thrown) into an {@link IpcError}: a broken connection becomes
 * `ERR_IPC_PEER_GONE`, other system errors `ERR_IPC_SYSTEM`; an `IpcError` is returned unchanged.
 */
export function toIpcError(error: unknown, context: string): IpcError {
  if (isIpcError(error)) return error;
  const system = error as NodeJS.ErrnoException | undefined;
  const errno = typeof system?.code === "string" ? system.code : undefined;
  const details: IpcErrorDetails = { cause: error };
  if (errno !== undefined) details.errno = errno;
  if (typeof system?.syscall === "string") details.syscall = system.syscall;
  if (typeof system?.path === "string") details.path = system.path;
  if (errno !== undefined && PEER_GONE_ERRNOS.has(errno)) {
    return new IpcError(
      IpcErrorCode.PEER_GONE,
      `${context}: the peer went away (${errno}); messages not yet received by it are lost. Reconnect or check that the peer process is still running.`,
      details,
    );
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new IpcError(IpcErrorCode.SYSTEM, `${context}: ${reason}`, details);
}
