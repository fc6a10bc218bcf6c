import { type Channel, IpcError, IpcErrorCode } from "@ipc/core";
import {
  BaseChannel,
  type BaseChannelOptions,
  describeShared,
  frameHeaderSize,
  LONG_HEADER_BYTES,
  processAlive,
  type SharedDescription,
  toIpcError,
  WaiterQueue,
} from "@ipc/core/transport";
import { readChannelCapacity, readDoorbellAddress, ringOffset } from "./channel-segment.js";
import { Doorbell } from "./doorbell.js";
import { ShmErrorCode } from "./errors.js";
import { type FutexWaitResult, futexNotify, futexWaitAsync } from "./futex.js";
import {
  READ_POS,
  READER_CLOSED,
  READER_PID,
  READER_SLEEPING,
  Ring,
  SLEEPS_ON_DOORBELL,
  SLEEPS_ON_FUTEX,
  WRITE_POS,
  WRITER_CLOSED,
  WRITER_PID,
  WRITER_SLEEPING,
} from "./ring.js";
import { RingReader } from "./ring-reader.js";
import { RingWriter } from "./ring-writer.js";
import type { Segment } from "./segment.js";
import { describeByAddress } from "./shared-segments.js";
import { ADAPTIVE_MIN_SPIN_MS, SpinPolicy } from "./spin-policy.js";

/** The least milliseconds a receive (or a blocked send) spins by default, adapting up from there (see SpinPolicy). */
export const DEFAULT_SPIN_MS = ADAPTIVE_MIN_SPIN_MS;
/** How often an end sleeping on a futex (no doorbell) checks that the peer process is alive, in milliseconds. */
const PEER_CHECK_MS = 100;
/**
 * How long an end sleeps on its doorbell before it looks at the ring and the peer's pid anyway: a peer's
 * death is normally seen at once (hang-up), but not while a copy of its socket lives in a process it
 * forked, and a wake-up sent by futex (no doorbell on that side) would otherwise never arrive.
 */
const DOORBELL_CHECK_MS = 1000;

/** Options of a shared-memory channel end: the channel options, and how long to spin. */
export interface ShmChannelOptions<T> extends Omit<BaseChannelOptions<T>, "direction"> {
  /**
   * Milliseconds a receive with nothing to read spins on the ring before it sleeps (and a send
   * that found the ring full, before sleeping); fractions allowed (`0.05` is 50 µs). Spinning blocks the
   * event loop for that long and buys sub-microsecond wake-ups; 0 never spins. By default it adapts: a
   * little longer than the peer's recent answers took, from 20 µs to 250 µs, and 20 µs for a peer slower
   * than that.
   */
  spin?: number | undefined;
}

/** A message channel over shared memory (see `createShmChannel`). */
export interface ShmChannel<T> extends Channel<T> {
  /** Process id of the other end, or 0 until it attaches. */
  readonly peerPid: number;
  /** The descriptor of an anonymous channel's memory, to hand to the peer in its stdio; undefined for a named one. */
  readonly fd: number | undefined;
  /** The name of a named channel ("/name"), or undefined. */
  readonly name: string | undefined;
  /** Bytes of ring in each direction. */
  readonly capacity: number;
  /**
   * Writes `message` into the ring if all of its frame fits there now and nothing is queued before it:
   * true, with every guarantee of a resolved `send`; false, and nothing sent, otherwise. Never waits.
   * @throws like `send`, and `ERR_IPC_FRAME_TOO_LARGE` for a frame larger than the ring (use `send`)
   */
  trySend(message: T): boolean;
  /**
   * The next message if one is in the ring whole, else `undefined` (v8 can carry `undefined`: send
   * something else to tell it from none). Never waits or spins: polling it in a loop blocks the event loop
   * as `spin` does. @throws at the end, what `receive` would reject with
   */
  tryReceive(): T | undefined;
}

/** Who owns the channel segment's name, and when it goes. */
export interface NameOwnership {
  /** Removes the name (idempotent; a name already gone is fine). */
  readonly unlink: () => void;
  /** Also remove it as soon as the peer has attached. */
  readonly onAttach: boolean;
}

/**
 * A message channel over shared memory: two single-producer, single-consumer rings in one segment, one
 * per direction, framed as `multiprocessing.connection` frames. A receive first spins on the ring
 * (`spin`), then sleeps on the doorbell (a Unix socket the event loop polls, rung by the peer only while
 * this end sleeps); a full ring makes sends wait (backpressure); a peer that dies hangs up the doorbell and
 * is reported at once (`ERR_IPC_PEER_GONE`). Without a doorbell (a peer that does not connect one) an end
 * sleeps on a futex on a waiter thread and checks the peer's pid every 100 ms. Everything in the rings and
 * their control words may have been written by another process, and is checked before use.
 */
export class ShmChannelEnd<T> extends BaseChannel<T> implements ShmChannel<T> {
  readonly #segment: Segment;
  readonly #out: Ring;
  readonly #in: Ring;
  readonly #reader: RingReader;
  readonly #writer: RingWriter;
  readonly #spin: SpinPolicy;
  /** When a receive that found nothing went to sleep (to learn how long the peer took), else undefined. */
  #sleptSince: number | undefined;
  readonly #name: NameOwnership | undefined;
  readonly #bell: Doorbell | undefined;
  /** Ends an idle sleep early (see `#idle`). */
  #wakeIdle: (() => void) | undefined;
  readonly #stop = new AbortController();
  /** Waiting for every queued frame to be in the ring (flush, close). */
  readonly #writtenOut = new WaiterQueue<void>();
  #writerRunning = false;
  /** How the read loop sleeps now: 0 awake, else SLEEPS_ON_FUTEX or SLEEPS_ON_DOORBELL. */
  #readerSleeping = 0;
  #readerStarted = false;
  #waitingForSpace = false;
  #ended = false;
  #peerSeen = false;

  /**
   * The end of the channel in `segment`: the creator's (ring 0 out; `doorbell` listening) or the opener's
   * (ring 1 out; it connects to the doorbell the header names).
   */
  constructor(
    segment: Segment,
    creator: boolean,
    options: ShmChannelOptions<T>,
    doorbell?: Doorbell,
    name?: NameOwnership,
  ) {
    super(options);
    const spin = options.spin;
    if (spin !== undefined && (typeof spin !== "number" || !(spin >= 0) || !Number.isFinite(spin))) {
      throw new IpcError(
        IpcErrorCode.INVALID_ARGUMENT,
        `spin must be a non-negative number of milliseconds, got ${String(spin)}`,
      );
    }
    this.#spin = new SpinPolicy(spin);
    this.#segment = segment;
    const capacity = readChannelCapacity(segment);
    const first = new Ring(segment.buffer, ringOffset(0, capacity), capacity);
    const second = new Ring(segment.buffer, ringOffset(1, capacity), capacity);
    this.#out = creator ? first : second;
    this.#in = creator ? second : first;
    if (creator) {
      Atomics.store(this.#out.words, WRITER_PID, process.pid);
      Atomics.store(this.#in.words, READER_PID, process.pid);
    } else {
      // The creator's outgoing ring is our incoming one: its reader slot says whether someone attached.
      if (Atomics.compareExchange(this.#in.words, READER_PID, 0, process.pid) !== 0) {
        throw new IpcError(
          ShmErrorCode.CHANNEL_IN_USE,
          `${segment.name ?? "the channel"} already has both ends attached; a shared-memory channel joins exactly two processes`,
        );
      }
      Atomics.store(this.#out.words, WRITER_PID, process.pid);
      // Tell the creator (it may be asleep on its incoming ring) that we are here.
      futexNotify(this.#out.words, WRITE_POS, 1);
      const address = readDoorbellAddress(segment);
      if (address !== undefined) doorbell = Doorbell.connect(address);
    }
    this.#bell = doorbell;
    if (doorbell !== undefined) {
      const ring = () => doorbell.ring();
      this.#out.bell = ring;
      this.#in.bell = ring;
      doorbell.onUp = () => this.#doorbellUp();
    }
    this.#reader = new RingReader(
      this.#in,
      this.maxFrameSize,
      (payload) => this.receiveFrame(payload),
      () => this.inbox.full,
    );
    this.#writer = new RingWriter(this.#out);
    this.#name = name;
    this.inbox.onSpace = () => {
      if (!this.#waitingForSpace) return;
      this.#waitingForSpace = false;
      void this.#readLoop();
    };
    void this.#readLoop();
  }

  get peerPid(): number {
    return Atomics.load(this.#in.words, WRITER_PID);
  }

  get fd(): number | undefined {
    return this.#segment.fd;
  }

  get name(): string | undefined {
    return this.#segment.name;
  }

  get capacity(): number {
    return this.#out.capacity;
  }

  // Room means a quarter of the ring (and a frame header) is free: a send then writes straight into shared
  // memory, and only a frame larger than that can ever wait in this process (copied). Otherwise sends wait
  // in the gate, uncopied, while the write loop waits for the reader.
  protected override hasRoom(): boolean {
    const room = (this.#out.capacity >>> 2) + LONG_HEADER_BYTES;
    if (this.#writer.pending === 0 && this.#writable(room) >= room) return true;
    // After the refused send has joined the gate's queue, so the loop finds it waiting.
    queueMicrotask(this.#startWriteLoop);
    return false;
  }

  // trySend takes a frame only when all of it fits in the ring now, so it never leaves part of one
  // queued in this process for the write loop (which needs the event loop) to finish.
  protected override roomNowFor(length: number): boolean {
    const frame = frameHeaderSize(length) + length;
    if (frame > this.#out.capacity) {
      throw new IpcError(
        IpcErrorCode.FRAME_TOO_LARGE,
        `trySend would write a ${frame}-byte frame into a ${this.#out.capacity}-byte ring: it takes only frames that fit the ring whole; send larger messages with send()`,
      );
    }
    return this.#writer.pending === 0 && this.#writable(frame) >= frame;
  }

  protected override writeFrame(payload: Uint8Array): void {
    this.#writer.write(payload, this.codec.borrowsInput === true);
    if (this.#writer.pending > 0) void this.#writeLoop();
  }

  protected override async flushFrames(): Promise<void> {
    if (!(await this.#allWritten(undefined))) {
      throw new IpcError(IpcErrorCode.PEER_GONE, "the channel ended before every message was written");
    }
  }

  /** True once every frame taken so far is in the ring; false when the channel ended first or `timeout` ran out. */
  async #allWritten(timeout: number | undefined): Promise<boolean> {
    if (this.#writer.pending > 0 && !this.#ended) {
      await this.#writtenOut.wait("writing queued messages", { timeout }, undefined).catch(() => {});
    }
    return this.#writer.pending === 0;
  }

  /** How a sleeping end is woken now: by the doorbell once it is up, else by a futex. @internal */
  get wakesBy(): "doorbell" | "futex" {
    return this.#bell?.up ? "doorbell" : "futex";
  }

  /** True once this end's doorbell rings go over the back line (see Doorbell). @internal */
  get backLineUp(): boolean {
    return this.#bell?.backLineUp ?? false;
  }

  /** Writes raw bytes past the framing (for tests of what a reader does with bad input). @internal */
  writeRaw(bytes: Uint8Array): void {
    if (this.#out.writable() < bytes.byteLength)
      throw new IpcError(IpcErrorCode.INVALID_ARGUMENT, "no room for raw bytes");
    this.#out.put(bytes, 0, bytes.byteLength);
    this.#out.publish();
  }

  // While the application keeps receiving, frames are fetched here, synchronously, and the producer is
  // told not to wake the read loop (a system call per message otherwise). Only when a receive is about to
  // wait does the read loop's wake-up flag go back up.
  protected override pollIncoming(): void {
    if (this.#ended || this.inbox.bufferedFrames > 0) return;
    const words = this.#in.words;
    // Stored only when it changes: the word sits on the producer's cache line.
    if (this.#readerSleeping && Atomics.load(words, READER_SLEEPING) !== 0)
      Atomics.store(words, READER_SLEEPING, 0);
    const slept = this.#sleptSince;
    this.#sleptSince = undefined;
    let got = this.#drain();
    if (got > 0) {
      this.#spin.observe(slept === undefined ? 0 : performance.now() - slept);
      return;
    }
    const started = performance.now();
    const spinMs = this.#spin.spinMs;
    const until = spinMs === 0 ? 0 : started + spinMs;
    while (got === 0 && !this.#ended && performance.now() < until) {
      if (this.#in.hasNews()) got = this.#drain();
      else if (Atomics.load(words, WRITER_CLOSED) !== 0) break;
    }
    if (got > 0) this.#spin.observe(performance.now() - started);
    else this.#sleptSince = started;
    if (got === 0 && this.#readerSleeping !== 0) {
      Atomics.store(words, READER_SLEEPING, this.#readerSleeping);
      this.#drain(); // bytes published while the flag was down
    }
  }

  protected override fetchIncoming(): void {
    if (!this.#ended && this.#in.hasNews()) this.#drain();
  }

  /** Drains the incoming ring; a protocol error in it ends the channel. Returns frames moved. */
  #drain(): number {
    if (this.#ended) return 0;
    try {
      return this.#reader.drain();
    } catch (error) {
      this.#end(toIpcError(error, "receiving"));
      return 0;
    }
  }

  /** `writable(atLeast)` of the outgoing ring; an impossible position there ends the channel (0 then). */
  #writable(atLeast: number): number {
    try {
      return this.#out.writable(atLeast);
    } catch (error) {
      this.#end(toIpcError(error, "sending"));
      return 0;
    }
  }

  /** Keeps draining the incoming ring while the channel is open, sleeping on it when it is empty. */
  async #readLoop(): Promise<void> {
    if (this.#readerStarted) return;
    this.#readerStarted = true;
    const ring = this.#in;
    const words = ring.words;
    try {
      while (!this.#ended) {
        const seen = Atomics.load(words, WRITE_POS);
        const before = ring.readPosition;
        this.#drain();
        if (this.#ended) return;
        if (this.inbox.full) {
          this.#waitingForSpace = true;
          return;
        }
        this.#notePeer();
        // Progress: look again at once (the inbox's high-water mark bounds how long this can go on).
        if (ring.readPosition !== before) {
          if (this.#sleptSince !== undefined) {
            this.#spin.observe(performance.now() - this.#sleptSince); // how long the peer took this time
            this.#sleptSince = undefined;
          }
          continue;
        }
        // No progress: the ring is empty, or holds only part of a header. Sleep until it changes.
        if (Atomics.load(words, WRITER_CLOSED) !== 0) {
          this.#drain();
          this.#end(this.#incompleteFrameError("closed the channel"));
          return;
        }
        if (this.#bell?.hungUp) {
          this.#drain();
          this.#end(this.#incompleteFrameError("died") ?? this.#peerGone());
          return;
        }
        const mode = this.#sleepMode();
        this.#readerSleeping = mode;
        Atomics.store(words, READER_SLEEPING, mode);
        let result: FutexWaitResult = "not-equal";
        if (Atomics.load(words, WRITE_POS) === seen && Atomics.load(words, WRITER_CLOSED) === 0) {
          result = await this.#sleep(mode, words, WRITE_POS, seen, true);
        }
        this.#readerSleeping = 0;
        Atomics.store(words, READER_SLEEPING, 0);
        // A peer that closed cleanly (and then exited) is not a dead peer: the loop ends cleanly next.
        if (result === "timed-out" && Atomics.load(words, WRITER_CLOSED) === 0 && !this.#peerAlive()) {
          this.#drain();
          this.#end(this.#incompleteFrameError("died") ?? this.#peerDied());
          return;
        }
      }
    } catch (error) {
      if (!this.#ended) this.#end(toIpcError(error, "waiting for messages"));
    } finally {
      this.#readerStarted = false;
    }
  }

  readonly #startWriteLoop = () => void this.#writeLoop();

  /** Writes queued frames as the reader frees room, sleeping on the ring when it is full. */
  async #writeLoop(): Promise<void> {
    if (this.#writerRunning) return;
    this.#writerRunning = true;
    const words = this.#out.words;
    const need = () => this.#writer.nextNeed((this.#out.capacity >>> 2) + LONG_HEADER_BYTES);
    try {
      for (;;) {
        this.#writer.writePending();
        if (this.#writer.pending === 0) this.#writtenOut.resolveAll();
        this.gate.notify();
        if ((this.#writer.pending === 0 && this.gate.waiting === 0) || this.#ended) return;
        const until = performance.now() + this.#spin.spinMs;
        while (this.#out.writable(need()) < need() && performance.now() < until);
        if (this.#out.writable(need()) >= need()) continue;
        if (Atomics.load(words, READER_CLOSED) !== 0) {
          this.#drain();
          this.#end(undefined);
          return;
        }
        if (this.#bell?.hungUp) {
          this.#end(this.#peerGone());
          return;
        }
        const mode = this.#sleepMode();
        Atomics.store(words, WRITER_SLEEPING, mode);
        const seen = Atomics.load(words, READ_POS);
        let result: FutexWaitResult = "not-equal";
        if (this.#out.writable(need()) < need()) {
          // A blocked send is something waiting: never the idle sleep.
          result = await this.#sleep(mode, words, READ_POS, seen, false);
        }
        Atomics.store(words, WRITER_SLEEPING, 0);
        if (result === "timed-out" && Atomics.load(words, READER_CLOSED) === 0 && !this.#peerAlive()) {
          this.#end(this.#peerDied());
          return;
        }
      }
    } catch (error) {
      if (!this.#ended) this.#end(toIpcError(error, "sending"));
    } finally {
      this.#writerRunning = false;
    }
  }

  /** How this end sleeps now: on the doorbell once it is up, else on a futex. */
  #sleepMode(): number {
    return this.#bell?.up ? SLEEPS_ON_DOORBELL : SLEEPS_ON_FUTEX;
  }

  /**
   * Sleeps until `words[index]` may have left `seen`: on the doorbell for at most DOORBELL_CHECK_MS (a dead
   * peer hangs up at once), else on the futex for at most PEER_CHECK_MS, or, when `mayIdle` and nothing
   * waits on this end, on an unref'd timer, so an idle channel does not keep the process alive.
   */
  async #sleep(
    mode: number,
    words: Int32Array,
    index: number,
    seen: number,
    mayIdle: boolean,
  ): Promise<FutexWaitResult> {
    if (mode === SLEEPS_ON_DOORBELL) {
      return (await this.#bell!.wait(DOORBELL_CHECK_MS)) === "timed-out" ? "timed-out" : "ok";
    }
    if (mayIdle && !this.keepsAlive) return this.#idle();
    return futexWaitAsync(words, index, seen, { timeout: PEER_CHECK_MS, signal: this.#stop.signal });
  }

  /** "timed-out" after PEER_CHECK_MS on a timer that keeps nothing alive, or "ok" when `#wakeIdle` is called. */
  #idle(): Promise<FutexWaitResult> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wakeIdle = undefined;
        resolve("timed-out");
      }, PEER_CHECK_MS).unref();
      this.#wakeIdle = () => {
        clearTimeout(timer);
        this.#wakeIdle = undefined;
        resolve("ok");
      };
    });
  }

  /** The doorbell came up: wake this end's futex sleepers so they sleep on it from now on. */
  #doorbellUp(): void {
    this.keepAliveChanged();
    this.#wakeIdle?.();
    futexNotify(this.#in.words, WRITE_POS);
    futexNotify(this.#out.words, READ_POS);
  }

  protected override keepAliveChanged(): void {
    this.#bell?.keepAlive(this.keepsAlive && !this.#ended);
    this.#wakeIdle?.();
  }

  #notePeer(): void {
    if (this.#peerSeen || this.peerPid === 0) return;
    this.#peerSeen = true;
    if (this.#name?.onAttach) this.#name.unlink();
  }

  #peerAlive(): boolean {
    const pid = this.peerPid;
    return pid === 0 || processAlive(pid);
  }

  #peerDied(): IpcError {
    return new IpcError(IpcErrorCode.PEER_GONE, `the peer process ${this.peerPid} died; the channel is gone`);
  }

  /** The doorbell hung up without a clean close: the peer died, or its end failed and let go. */
  #peerGone(): IpcError {
    if (!this.#peerAlive()) return this.#peerDied();
    return new IpcError(
      IpcErrorCode.PEER_GONE,
      `the peer process ${this.peerPid} hung up without closing the channel (it is exiting, or its end failed); the channel is gone`,
    );
  }

  /** PEER_GONE when the peer stopped inside a frame, else undefined (a clean end). */
  #incompleteFrameError(what: string): IpcError | undefined {
    if (!this.#reader.midFrame) return undefined;
    return new IpcError(
      IpcErrorCode.PEER_GONE,
      `the peer ${what} in the middle of a message; the partial message was dropped`,
    );
  }

  /** Ends the channel from the peer's side: clean (no error), gone, or a protocol failure. */
  #end(error: IpcError | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#stop.abort();
    this.#bell?.close();
    this.#wakeIdle?.();
    this.#writtenOut.resolveAll();
    if (error === undefined) this.peerEnded();
    else if (error.code === IpcErrorCode.PEER_GONE) this.peerEnded(error);
    else this.failed(error);
  }

  protected override async shutdown(timeoutMs: number): Promise<void> {
    await this.#allWritten(timeoutMs);
    const out = this.#out.words;
    const incoming = this.#in.words;
    Atomics.store(out, WRITER_CLOSED, 1);
    futexNotify(out, WRITE_POS);
    Atomics.store(incoming, READER_CLOSED, 1);
    futexNotify(incoming, READ_POS);
    this.#ended = true;
    this.#stop.abort();
    this.#bell?.close();
    this.#wakeIdle?.();
    this.#name?.unlink();
    this.#segment.close();
  }

  /** A child handed this (creator's) end opens the channel's other end (`Process` args in @ipc/pipe). @internal */
  [describeShared](): SharedDescription {
    return describeByAddress(this.#segment, "channel", { codec: this.codec.name });
  }
}
