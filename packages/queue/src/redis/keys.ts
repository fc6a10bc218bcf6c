// A Redis queue's keys. Every key of one queue shares the hash tag `{name}`, so a script that touches
// several of them runs on one Redis Cluster node.

/** The keys of the queue named `name`. */
export interface QueueKeys {
  /** The stream of items (consumer group "g"); an item leased is pending in the group. */
  readonly stream: string;
  /** A hash: the queue's settings and counters (ready, leased, dead, put, finished). */
  readonly meta: string;
  /** A list of the ids of items given back (nacked), ready again before new items. */
  readonly returned: string;
  /** The stream of dead letters. */
  readonly dead: string;
  /** Wake-up tokens: one per item put (consumers wait on it), one per room freed (producers). */
  readonly itemBell: string;
  readonly spaceBell: string;
  /** Prefix of the memo of one request (its result, for a retry after a lost reply). */
  readonly memoPrefix: string;
  /** Prefix of the idempotency keys of puts. */
  readonly idempotencyPrefix: string;
}

const NAME = /^[A-Za-z0-9._:-]{1,200}$/;

/** The keys of a queue; `name` is checked (letters, digits, `._:-`, at most 200). */
export function queueKeys(name: string): QueueKeys | undefined {
  if (typeof name !== "string" || !NAME.test(name)) return undefined;
  const base = `ipcq:{${name}}:`;
  return {
    stream: `${base}s`,
    meta: `${base}m`,
    returned: `${base}r`,
    dead: `${base}d`,
    itemBell: `${base}bi`,
    spaceBell: `${base}bs`,
    memoPrefix: `${base}q:`,
    idempotencyPrefix: `${base}k:`,
  };
}
