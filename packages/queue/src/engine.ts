import { IpcError, IpcErrorCode, type WaitOptions } from "@ipc/core";
import { abortedError, checkWaitOptions, Deadline, timeoutError, waitLimits } from "@ipc/core/transport";
import { futexNotify, futexWaitAsync, type Segment, type SharedLock } from "@ipc/shm";
import { QueueErrorCode } from "./errors.js";
import type { Journal } from "./journal.js";
import {
  CONSUMER_JOURNAL,
  DEAD,
  FINISH_SIGNAL,
  FINISH_SLEEPERS,
  FINISHED_COUNT,
  HEAD,
  ITEM_SIGNAL,
  ITEM_SLEEPERS,
  LAST_SWEEP,
  LEASED,
  PRODUCER_JOURNAL,
  PUT_COUNT,
  type QueueShape,
  RECORD_HEADER_BYTES,
  REDELIVERABLE,
  SPACE_SIGNAL,
  SPACE_SLEEPERS,
  SPINNER,
  TAIL,
  TAKEN_COUNT,
} from "./layout.js";
import { type PutRefusal, putLocked } from "./put.js";
import { QueueMemory } from "./queue-memory.js";
import { claimSlotLocked, someOwnerGone, sweepLocked } from "./slots.js";
import {
  getLocked,
  type LeaseTicket,
  type Settled,
  type Settlement,
  settleLocked,
  type TakenItem,
  takeDeadLocked,
  takeLocked,
} from "./take.js";

/** The lock was held by another process at that instant. */
const BUSY = Symbol("busy");
type Busy = typeof BUSY;

/** Sleeps are cut into slices this long, to look for dead consumers and dead lock holders between them. */
const SLICE_MS = 100;
/** How often (at most) any process looks for consumers that died holding leases. */
const SWEEP_INTERVAL_MS = 100;
/** How long a locker spins on a busy lock (held for microseconds) before it sleeps on it. */
const LOCK_SPIN_MS = 0.01;

/**
 * One kind of wait: the word sleepers sleep on, and how wakers know someone sleeps. Items are woken one
 * per item, so their sleepers are counted; space and join waiters are all woken at once, so they raise a
 * flag that the first waker takes down (one wake-up per round of sleep, not one per item freed).
 */
interface WaitKind {
  readonly signal: number;
  readonly sleepers: number;
  readonly flag: boolean;
}
const ITEMS: WaitKind = { signal: ITEM_SIGNAL, sleepers: ITEM_SLEEPERS, flag: false };
const SPACE: WaitKind = { signal: SPACE_SIGNAL, sleepers: SPACE_SLEEPERS, flag: true };
const FINISH: WaitKind = { signal: FINISH_SIGNAL, sleepers: FINISH_SLEEPERS, flag: true };

/**
 * The queue's operations on its shared memory, in bytes: put, take (at once or as a lease), settle a
 * lease, dead letters, counts, join. Every update runs under one of two locks (producers', consumers'),
 * synchronously and journaled; every wait sleeps on a futex word (after an optional short spin), never on
 * libuv's threadpool, and wakes in slices to recover from processes that died.
 */
export class QueueEngine {
  readonly memory: QueueMemory;
  readonly segment: Segment;
  readonly #spinMs: number;
  readonly #closing = new AbortController();
  #slot: number | undefined;
  #calls = 0;
  #sweepDue = true;
  readonly #sweepTimer: ReturnType<typeof setInterval>;
  #putsWaiting = 0;
  #lastPut: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(segment: Segment, shape: QueueShape, spinMs: number) {
    this.segment = segment;
    this.memory = new QueueMemory(segment, shape);
    this.#spinMs = spinMs;
    this.#sweepTimer = setInterval(() => {
      this.#sweepDue = true;
    }, SWEEP_INTERVAL_MS);
    this.#sweepTimer.unref();
  }

  get shape(): QueueShape {
    return this.memory.shape;
  }

  get closed(): boolean {
    return this.#closed;
  }

  // ---- producers ----

  /** Checks that `payload` can ever fit. @throws `ERR_IPC_QUEUE_ITEM_TOO_LARGE` */
  checkFits(payload: Uint8Array): void {
    const room = this.shape.capacity - RECORD_HEADER_BYTES;
    if (payload.byteLength > room) {
      throw new IpcError(
        QueueErrorCode.ITEM_TOO_LARGE,
        `an item of ${payload.byteLength} bytes can never fit this queue (capacity ${this.shape.capacity} bytes, at most ${room} per item); create the queue with a larger capacity or put smaller items`,
      );
    }
  }

  /** Puts now or throws `ERR_IPC_QUEUE_FULL`; may block for the microseconds another process holds the lock. */
  putNowait(payload: Uint8Array): void {
    this.#checkOpen();
    this.checkFits(payload);
    if (this.#putsWaiting > 0) {
      throw new IpcError(
        QueueErrorCode.FULL,
        "an earlier put of this process still waits for room; this one would overtake it",
      );
    }
    const refusal = this.#lockedSync(this.memory.producerLock, this.memory.producerJournal, () =>
      putLocked(this.memory, payload),
    );
    if (refusal !== undefined) throw fullError(refusal, this.shape.maxsize);
    this.#wake(ITEMS, 1);
  }

  /** Puts now if there is room and the lock is free (true), without waiting; false otherwise. */
  putIfRoom(payload: Uint8Array): boolean {
    this.#checkOpen();
    this.checkFits(payload);
    if (this.#putNow(payload) !== undefined) return false;
    this.#wake(ITEMS, 1);
    return true;
  }

  /** True while a put of this end waits: later puts queue behind it, so this end's order is kept. */
  get putsWaiting(): boolean {
    return this.#putsWaiting > 0;
  }

  /**
   * Puts, waiting while the queue is full, behind this end's earlier puts that still wait (so one end's
   * items keep the order of its calls). Aborted or timed out: nothing was put.
   */
  put(payload: Uint8Array, options: WaitOptions = {}): Promise<void> {
    try {
      checkWaitOptions(options, "put");
      if (this.#putsWaiting === 0 && this.putIfRoom(payload)) return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
    const deadline = new Deadline(options.timeout);
    const earlier = this.#lastPut;
    this.#putsWaiting++;
    const mine = (async () => {
      try {
        await this.#behind(earlier, options, deadline);
        await this.#waitFor(
          SPACE,
          this.memory.producerLock,
          this.memory.producerJournal,
          () => (putLocked(this.memory, payload) === undefined ? true : undefined),
          { signal: options.signal, timeout: deadline.remaining() },
          "put",
        );
        this.#wake(ITEMS, 1);
      } finally {
        this.#putsWaiting--;
      }
    })();
    this.#lastPut = mine.catch(() => {});
    return mine;
  }

  /** Waits for this end's earlier put, within the caller's limits. */
  async #behind(earlier: Promise<void>, options: WaitOptions, deadline: Deadline): Promise<void> {
    const limits = waitLimits("put", { signal: options.signal, timeout: deadline.remaining() });
    try {
      await Promise.race([earlier, limits.expired]);
    } finally {
      limits.release();
    }
  }

  // ---- consumers ----

  /** Takes the next item now (leased with `lease`), or throws `ERR_IPC_QUEUE_EMPTY`. */
  takeNowait(lease: boolean): TakenItem {
    this.#checkOpen();
    this.#upkeepIfDue();
    const taken = this.#lockedSync(this.memory.consumerLock, this.memory.consumerJournal, () =>
      takeLocked(this.memory, lease ? this.#claimSlot() : undefined),
    );
    if (taken === undefined) throw new IpcError(QueueErrorCode.EMPTY, "the queue has no item ready");
    this.#wake(SPACE, Number.POSITIVE_INFINITY);
    return taken;
  }

  /** A plain get now if an item is ready and the lock is free: its bytes, or undefined (nothing waits). */
  getIfReady(): Uint8Array | undefined {
    if (this.#closed) throw closedError();
    this.#upkeepIfDue();
    const lock = this.memory.consumerLock;
    if (!lock.tryAcquire()) return undefined;
    let payload: Uint8Array | undefined;
    try {
      payload = getLocked(this.memory);
    } finally {
      lock.release();
    }
    if (payload !== undefined) this.#afterTake();
    return payload;
  }

  /** After an item was taken: wake producers waiting for room, and pass an item wake-up on if more wait. */
  #afterTake(): void {
    this.#wake(SPACE, Number.POSITIVE_INFINITY);
    const words = this.memory.words;
    if (Atomics.load(words, ITEM_SLEEPERS) > 0 && this.#itemMayBeReady()) this.#wake(ITEMS, 1);
  }

  /** Takes the next item now if one is ready and the lock is free; undefined otherwise (nothing waits). */
  takeIfReady(lease: boolean): TakenItem | undefined {
    this.#checkOpen();
    this.#upkeepIfDue();
    const taken = this.#takeNow(lease);
    if (taken === undefined || taken === BUSY) return undefined;
    this.#afterTake();
    return taken;
  }

  /** Takes the next item (leased with `lease`), waiting while none is ready. Aborted or timed out: nothing was taken. */
  async take(lease: boolean, options: WaitOptions = {}): Promise<TakenItem> {
    checkWaitOptions(options, lease ? "lease" : "get");
    const ready = this.takeIfReady(lease);
    if (ready !== undefined) return ready;
    const { consumerLock, consumerJournal } = this.memory;
    let taken: TakenItem;
    try {
      taken = await this.#waitFor(
        ITEMS,
        consumerLock,
        consumerJournal,
        () => takeLocked(this.memory, lease ? this.#claimSlot() : undefined),
        options,
        "get",
      );
    } catch (error) {
      // This wait may have swallowed a wake-up meant for an item: pass it on.
      if (!this.#closed && this.qsize() > 0) this.#wake(ITEMS, 1);
      throw error;
    }
    this.#afterTake();
    return taken;
  }

  /** {@link settle}, blocking this thread for the microseconds another process may hold the lock. */
  settleSync(ticket: LeaseTicket, how: Settlement): boolean {
    this.#checkOpen();
    const settled = this.#lockedSync(this.memory.consumerLock, this.memory.consumerJournal, () =>
      settleLocked(this.memory, ticket, how),
    );
    if (settled === undefined) return false;
    this.#afterSettled(settled, 1);
    return true;
  }

  /** Ends a lease; false when it was settled already (or is no longer this process's). */
  settle(ticket: LeaseTicket, how: Settlement): Promise<boolean> {
    try {
      this.#checkOpen();
      const body = () => settleLocked(this.memory, ticket, how);
      const now = this.#tryLocked(this.memory.consumerLock, body);
      if (now !== BUSY) return Promise.resolve(this.#settled(now));
      return this.#locked(this.memory.consumerLock, this.memory.consumerJournal, body).then((later) =>
        this.#settled(later),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #settled(settled: Settled | undefined): boolean {
    if (settled === undefined) return false;
    this.#afterSettled(settled, 1);
    return true;
  }

  /** Takes the oldest dead letter out, or undefined when there is none. */
  async takeDead(): Promise<TakenItem | undefined> {
    this.#checkOpen();
    const taken = await this.#locked(this.memory.consumerLock, this.memory.consumerJournal, () =>
      takeDeadLocked(this.memory),
    );
    if (taken !== undefined) this.#wake(SPACE, Number.POSITIVE_INFINITY);
    return taken;
  }

  // ---- counts ----

  /**
   * Items ready to get, exactly: the put count and the taken count read as one snapshot (the put count
   * read again after the taken count, until it did not move).
   */
  qsize(): number {
    this.#checkOpen();
    this.#heal();
    const words = this.memory.words;
    let before = Atomics.load(words, PUT_COUNT);
    for (;;) {
      const taken = Atomics.load(words, TAKEN_COUNT);
      const after = Atomics.load(words, PUT_COUNT);
      if (after === before) return Math.max(0, (after - taken) | 0);
      before = after;
    }
  }

  /** Leases held now, by every process. */
  leasedCount(): number {
    this.#checkOpen();
    return Math.max(0, Atomics.load(this.memory.words, LEASED));
  }

  /** Dead letters held now. */
  deadLetterCount(): number {
    this.#checkOpen();
    return Math.max(0, Atomics.load(this.memory.words, DEAD));
  }

  /** Items put and not yet finished (acked, task done or dead-lettered); joinable queues only. */
  unfinished(): number {
    const words = this.memory.words;
    let before = Atomics.load(words, FINISHED_COUNT);
    for (;;) {
      const put = Atomics.load(words, PUT_COUNT);
      const after = Atomics.load(words, FINISHED_COUNT);
      if (after === before) return Math.max(0, (put - after) | 0);
      before = after;
    }
  }

  /** Waits until every item put has been finished. */
  async join(options: WaitOptions = {}): Promise<void> {
    this.#checkOpen();
    this.#heal();
    if (this.unfinished() === 0) return;
    await this.#waitFor(
      FINISH,
      undefined,
      undefined,
      () => {
        this.#upkeepIfDue();
        return this.unfinished() === 0 ? true : undefined;
      },
      options,
      "join",
    );
  }

  // ---- life ----

  /** Stops this process's waits (they reject with `ERR_IPC_CLOSED`) and unmaps the memory. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweepTimer);
    this.#closing.abort();
    this.segment.close();
  }

  #checkOpen(): void {
    if (this.#closed) throw closedError();
  }

  #claimSlot(): number {
    this.#slot = claimSlotLocked(this.memory, this.#slot);
    return this.#slot;
  }

  #afterSettled(settled: Settled, count: number): void {
    if (settled.readyAgain) this.#wake(ITEMS, count);
    if (settled.spaceFreed) this.#wake(SPACE, Number.POSITIVE_INFINITY);
    if (settled.finished && this.unfinished() === 0) this.#wake(FINISH, Number.POSITIVE_INFINITY);
  }

  /** Bumps a wait kind's signal and wakes `count` sleepers, if any sleep (a load otherwise). */
  #wake(kind: WaitKind, count: number): void {
    const words = this.memory.words;
    if (Atomics.load(words, kind.sleepers) <= 0) return;
    // A consumer spinning for an item takes it without a system call; it wakes a sleeper if more are left.
    if (kind === ITEMS && Atomics.load(words, SPINNER) !== 0) return;
    if (kind.flag && Atomics.exchange(words, kind.sleepers, 0) === 0) return;
    Atomics.add(words, kind.signal, 1);
    futexNotify(words, kind.signal, count);
  }

  // ---- locking ----

  /**
   * Runs `body` under `lock` if it is free now, else BUSY. (A lock held by a dead process is not free: the
   * waits of {@link #locked} take it over and finish its update.)
   */
  #tryLocked<R>(lock: SharedLock, body: () => R): R | Busy {
    if (!lock.tryAcquire()) return BUSY;
    try {
      return body();
    } finally {
      lock.release();
    }
  }

  /** A put now, if the producer lock is free. */
  #putNow(payload: Uint8Array): PutRefusal | undefined | Busy {
    const lock = this.memory.producerLock;
    if (!lock.tryAcquire()) return BUSY;
    try {
      return putLocked(this.memory, payload);
    } finally {
      lock.release();
    }
  }

  /** A take now, if the consumer lock is free. */
  #takeNow(lease: boolean): TakenItem | undefined | Busy {
    const lock = this.memory.consumerLock;
    if (!lock.tryAcquire()) return BUSY;
    try {
      return takeLocked(this.memory, lease ? this.#claimSlot() : undefined);
    } finally {
      lock.release();
    }
  }

  /** Runs `body` under `lock`, blocking this thread while another process holds it (microseconds). */
  #lockedSync<R>(lock: SharedLock, journal: Journal, body: () => R): R {
    const result = this.#tryLocked(lock, body);
    if (result !== BUSY) return result;
    const guard = lock.lockSync();
    try {
      if (guard.previousOwnerDied) journal.recover();
      return body();
    } finally {
      guard.unlock();
    }
  }

  /** Runs `body` under `lock`, spinning briefly and then sleeping (without blocking the event loop) while it is busy. */
  async #locked<R>(lock: SharedLock, journal: Journal, body: () => R, options?: WaitOptions): Promise<R> {
    const until = performance.now() + LOCK_SPIN_MS;
    do {
      const result = this.#tryLocked(lock, body);
      if (result !== BUSY) return result;
    } while (performance.now() < until);
    const guard = await lock.lock(options);
    try {
      if (guard.previousOwnerDied) journal.recover();
      return body();
    } finally {
      guard.unlock();
    }
  }

  // ---- waiting ----

  /**
   * Calls `attempt` (under `lock`, when given) until it returns a value, sleeping on `kind`'s signal word
   * between tries. A sleeper registers before its last look, so a waker that changes the state after that
   * look sees it and bumps the word: no wake-up is lost.
   */
  async #waitFor<R>(
    kind: WaitKind,
    lock: SharedLock | undefined,
    journal: Journal | undefined,
    attempt: () => R | undefined,
    options: WaitOptions,
    what: string,
  ): Promise<R> {
    checkWaitOptions(options, what);
    const deadline = new Deadline(options.timeout);
    const signal = options.signal
      ? AbortSignal.any([options.signal, this.#closing.signal])
      : this.#closing.signal;
    const words = this.memory.words;
    let registered = false;
    // Only a get spins: it watches the tail (no system call for the producer, which wakes only sleepers).
    let spun = kind !== ITEMS || this.#spinMs === 0;
    try {
      for (;;) {
        if (this.#closed) throw closedError();
        const seen = Atomics.load(words, kind.signal);
        const result =
          lock === undefined || journal === undefined
            ? attempt()
            : await this.#locked(lock, journal, attempt, deadline.options(signal));
        if (result !== undefined) return result;
        const left = deadline.remaining() ?? Number.POSITIVE_INFINITY;
        if (left <= 0) throw timeoutError(what, options.timeout!);
        if (!spun) {
          spun = true;
          // One consumer spins at a time: on a busy machine more would take the CPU the producers need.
          if (Atomics.compareExchange(words, SPINNER, 0, 1) === 0) {
            const until = performance.now() + Math.min(this.#spinMs, left);
            try {
              while (!this.#itemMayBeReady() && performance.now() < until);
            } finally {
              Atomics.store(words, SPINNER, 0);
            }
          }
          continue; // look again (after the spinner flag is down, so a put wakes sleepers again)
        }
        if (!registered) {
          if (kind.flag) Atomics.store(words, kind.sleepers, 1);
          else Atomics.add(words, kind.sleepers, 1);
          registered = true;
          continue; // look once more, now that wakers can see this sleeper
        }
        const outcome = await futexWaitAsync(words, kind.signal, seen, {
          timeout: Math.min(left, SLICE_MS),
          signal,
        });
        if (kind.flag) registered = false; // a waker took the flag down: raise it again before sleeping
        if (outcome === "timed-out") this.#upkeep();
      }
    } catch (error) {
      if (options.signal?.aborted) throw abortedError(what, options.signal);
      if (this.#closed) throw closedError();
      throw error;
    } finally {
      if (registered && !kind.flag && !this.#closed) Atomics.sub(words, kind.sleepers, 1);
    }
  }

  /** A cheap look, without the lock: an item was published past the head, or one was returned. */
  #itemMayBeReady(): boolean {
    const words = this.memory.words;
    return Atomics.load(words, TAIL) !== Atomics.load(words, HEAD) || Atomics.load(words, REDELIVERABLE) > 0;
  }

  // ---- recovery ----

  /**
   * Looks for dead consumers if no process did for {@link SWEEP_INTERVAL_MS}. The clock is read when this
   * process's timer says the interval passed, or every 256th call (a loop that never yields to timers).
   */
  #upkeepIfDue(): void {
    if (!this.#sweepDue && (++this.#calls & 255) !== 0) return;
    this.#sweepDue = false;
    const words = this.memory.words;
    const now = Date.now() | 0;
    const last = Atomics.load(words, LAST_SWEEP);
    if ((now - last) >>> 0 < SWEEP_INTERVAL_MS) return;
    if (Atomics.compareExchange(words, LAST_SWEEP, last, now) !== last) return;
    this.#upkeep();
  }

  /** Returns the leases of dead consumers and finishes the updates of dead lock holders. */
  #upkeep(): void {
    if (this.#closed) return;
    this.#heal();
    if (!someOwnerGone(this.memory)) return;
    const swept = this.#tryLocked(this.memory.consumerLock, () => sweepLocked(this.memory));
    if (swept === BUSY) return; // another process holds the lock: the next look will do
    if (swept.returned > 0) this.#wake(ITEMS, swept.returned);
    if (swept.finished > 0 && this.unfinished() === 0) this.#wake(FINISH, Number.POSITIVE_INFINITY);
  }

  /** Finishes an update a dead lock holder committed but did not apply (nobody else may take that lock soon). */
  #heal(): void {
    const { words, producerLock, producerJournal, consumerLock, consumerJournal } = this.memory;
    // A committed update is in the journal only while its holder applies it, or after it died doing so.
    for (const [lock, journal, at] of [
      [producerLock, producerJournal, PRODUCER_JOURNAL],
      [consumerLock, consumerJournal, CONSUMER_JOURNAL],
    ] as const) {
      if (Atomics.load(words, at) === 0) continue;
      const guard = lock.tryLock(); // takes it over from a dead holder
      if (guard === undefined) continue;
      try {
        if (guard.previousOwnerDied) journal.recover();
      } finally {
        guard.unlock();
      }
    }
  }
}

function fullError(refusal: PutRefusal, maxsize: number): IpcError {
  return new IpcError(
    QueueErrorCode.FULL,
    refusal === "full"
      ? `the queue holds its maxsize of ${maxsize} items`
      : "the queue has no room for this item's bytes now (its capacity is taken by items not yet finished)",
  );
}

function closedError(): IpcError {
  return new IpcError(IpcErrorCode.CLOSED, "this queue was closed in this process");
}
