/** How a reconnecting client waits between attempts: exponential backoff with jitter. */
export interface ReconnectOptions {
  /** Milliseconds before the first retry. @default 100 */
  initialDelay?: number;
  /** Longest delay between attempts, in milliseconds. @default 5000 */
  maxDelay?: number;
  /** Growth of the delay per failed attempt. @default 2 */
  factor?: number;
  /** Fraction of each delay that is random (0 = none, 1 = anywhere from 0 to the delay). @default 0.5 */
  jitter?: number;
  /** Consecutive failed attempts before giving up (`ERR_IPC_SOCKET_GAVE_UP`). @default Infinity */
  maxAttempts?: number;
  /**
   * Milliseconds a new connection must stay up before it counts (and the backoff starts over): until then,
   * sends wait in the queue, so a server that accepts and at once drops connections (one at
   * `maxConnections`, say) loses nothing and is not hammered. @default 100
   */
  probation?: number;
}

/** Milliseconds a new connection is on probation unless `probation` says otherwise. */
export const DEFAULT_PROBATION_MS = 100;

/** The delay before retry number `attempt` (1-based): exponential, capped, with jitter. */
export function backoff(attempt: number, options: ReconnectOptions = {}): number {
  const initial = options.initialDelay ?? 100;
  const max = options.maxDelay ?? 5_000;
  const factor = options.factor ?? 2;
  const jitter = Math.min(1, Math.max(0, options.jitter ?? 0.5));
  const delay = Math.min(max, initial * factor ** (attempt - 1));
  return delay * (1 - jitter * Math.random());
}
