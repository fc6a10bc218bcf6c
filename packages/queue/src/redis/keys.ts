// A Redis queue's keys. Every key of one queue shares the hash tag `{name}`, so a script that touches
// several of them runs on one Redis Cluster node.
//
// A queue is one *incarnation* of its name: `ipcq:{name}` holds the incarnation's id (random, made by
// the create), and every other key carries it. An end keeps the incarnation it opened, so after the name
// is unlinked (or lost in a restart) and made again, an old end finds its own keys gone
// (`ERR_IPC_QUEUE_NOT_FOUND`) instead of working on the new queue, and the new queue starts without the
// old one's idempotency keys and memos (they expire on their own).

/** The keys of one incarnation of a queue. */
export interface QueueKeys {
  /** The name's pointer: a string holding the current incarnation's id. */
  readonly pointer: string;
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
const INCARNATION = /^[0-9a-f]{16,64}$/;

/** True for a valid queue name: 1 to 200 letters, digits, `.`, `_`, `:` or `-`. */
export function validQueueName(name: unknown): name is string {
  return typeof name === "string" && NAME.test(name);
}

/** The pointer key of the name. */
export function pointerKey(name: string): string {
  return `ipcq:{${name}}`;
}

/** The keys of incarnation `incarnation` of the queue `name` (both checked by the caller). */
export function queueKeys(name: string, incarnation: string): QueueKeys {
  if (!INCARNATION.test(incarnation)) throw new Error(`not an incarnation id: ${incarnation}`);
  const base = `ipcq:{${name}}:${incarnation}:`;
  return {
    pointer: pointerKey(name),
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
