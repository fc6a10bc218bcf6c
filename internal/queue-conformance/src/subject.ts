// What the queue suite needs from a queue backend. Every operation is awaited, so a backend may answer
// synchronously (shared memory: `qsize()` is a number) or asynchronously (Redis: a promise).

/** A queue end as the suite drives it: the API of @ipc/queue's `Queue`, sync or async. */
export interface QueueUnderTest<T = unknown> extends AsyncIterable<T> {
  put(item: T, options?: WaitLike): Promise<void>;
  putNowait(item: T): unknown;
  get(options?: WaitLike): Promise<T>;
  getNowait(): T | Promise<T>;
  lease(options?: WaitLike): Promise<LeaseUnderTest<T>>;
  qsize(): number | Promise<number>;
  empty(): boolean | Promise<boolean>;
  full(): boolean | Promise<boolean>;
  leasedCount(): number | Promise<number>;
  deadLetterCount(): number | Promise<number>;
  takeDeadLetters(options?: { max?: number }): Promise<{ value: T; deliveryCount: number }[]>;
  close(): Promise<void>;
}

/** A joinable queue end. */
export interface JoinableQueueUnderTest<T = unknown> extends QueueUnderTest<T> {
  taskDone(): unknown;
  join(options?: WaitLike): Promise<void>;
}

/** A lease as the suite drives it. */
export interface LeaseUnderTest<T> {
  readonly value: T;
  readonly deliveryCount: number;
  ack(): Promise<void>;
  nack(options?: { deadLetter?: boolean }): Promise<void>;
}

export interface WaitLike {
  signal?: AbortSignal;
  timeout?: number;
}

/** How the suite asks for a queue. */
export interface QueueRequest {
  maxsize?: number;
  maxDeliveries?: number;
  joinable?: boolean;
  /** "json" (the default) or "bytes". */
  codec?: "json" | "bytes";
}

/** A consumer in another process, driven by the suite. */
export interface PeerConsumer {
  /** Leases one item there and resolves with its value (the peer holds the lease). */
  leaseOne(): Promise<unknown>;
  /** Gets one item there (a plain get). */
  getOne(): Promise<unknown>;
  /** SIGKILLs the peer and resolves once it has exited. */
  kill(): Promise<void>;
}

/** What a backend can do beyond the common contract. */
export interface QueueCapabilities {
  /** The largest item payload it accepts, in bytes (a larger put fails with ERR_IPC_QUEUE_ITEM_TOO_LARGE). */
  maxItemBytes: number;
  /** How long after a consumer's death its leases are delivered again, at most, in ms (the checks wait this long). */
  redeliveryMs: number;
}

/** A queue backend under test. */
export interface QueueSubject {
  name: string;
  capabilities: QueueCapabilities;
  /** A fresh queue; `second` opens another end of the same queue, as another process would. */
  create<T>(request: QueueRequest): Promise<{
    queue: QueueUnderTest<T>;
    second(): Promise<QueueUnderTest<T>>;
    /** Starts a consumer of this queue in another process. */
    peer(): Promise<PeerConsumer>;
    /** Closes every end and removes the queue; safe to call twice. */
    dispose(): Promise<void>;
  }>;
}
