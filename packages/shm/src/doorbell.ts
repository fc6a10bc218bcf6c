import { randomBytes, timingSafeEqual } from "node:crypto";
import { connect, createServer, type Server, type Socket } from "node:net";

/** Bytes of a doorbell's address id, and of the key a caller presents, in the channel segment's header. */
export const DOORBELL_ID_BYTES = 16;
export const DOORBELL_KEY_BYTES = 16;
/** How long a connection to a doorbell has to present its key, in milliseconds. */
const KEY_TIMEOUT_MS = 2000;
/** Times an opener connects again when it was dropped before the answer (a blocked event loop, say). */
const CONNECT_ATTEMPTS = 3;
const RECONNECT_DELAY_MS = 20;
/** Connections that may be presenting a key at once; more are refused (the channel then sleeps on futexes). */
const MAX_UNPROVEN_CONNECTIONS = 4;
/** Bytes the opener reads rings into at a time (a peer flooding the line costs a read per this many). */
const RING_READ_BYTES = 1024;
/** What one ring writes: any byte is a ring. */
const RING = Buffer.from([1]);

/** Where a doorbell listens (an abstract Unix socket named from `id`) and the key a caller must present. */
export interface DoorbellAddress {
  readonly id: Uint8Array;
  readonly key: Uint8Array;
}

/** How a wait for the doorbell ended: it rang (or rang earlier, spuriously), the other end is gone, or time ran out. */
export type DoorbellWait = "rung" | "hung-up" | "timed-out";

/**
 * The abstract socket name of a doorbell: `\0ipc-shm-<lowercase hex id>` (no file, gone with its
 * listener). Node 20 binds and connects it as the whole 108-byte `sun_path`, NUL-padded (see the wire format).
 */
export function doorbellPath(id: Uint8Array): string {
  return `\0ipc-shm-${Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString("hex")}`;
}

/**
 * The abstract socket name of the opener's back line: the doorbell's name followed by `-back` (the creator
 * connects to it, so that it too reads its rings from a socket it connected; see the wire format).
 */
export function backLinePath(id: Uint8Array): string {
  return `${doorbellPath(id)}-back`;
}

/** True when doorbells can exist here: abstract Unix sockets are Linux's. */
export function doorbellsSupported(): boolean {
  return process.platform === "linux";
}

/**
 * The wake-up line between the two ends of a shared-memory channel: a Unix socket that libuv polls like
 * any other, so a sleeping end is woken by one event-loop wake-up, and the other end's death (its socket
 * hangs up when the kernel closes its descriptors) is seen at once. The creator listens on a random
 * abstract address written into the segment with a random key; the opener connects and presents the key
 * (a process that cannot read the segment cannot present it), and the creator answers with one byte. A
 * doorbell that never comes up (an older peer, another network namespace, a refused connection) leaves
 * the channel on its futexes. Every byte after that is a ring; their contents mean nothing, so a peer that
 * floods the socket costs CPU, never memory. The creator then connects the opener's back line (when the
 * opener listens for one), so that each end reads its rings from a connection it made (see the wire format).
 */
export class Doorbell {
  #socket: Socket | undefined;
  #server: Server | undefined;
  #up = false;
  #hungUp = false;
  #closed = false;
  #keepAlive = false;
  #waiters: Array<(result: DoorbellWait) => void> = [];
  /** Connections that have not presented a key yet (unref'd; destroyed by `close`). */
  readonly #unproven = new Set<Socket>();
  /** The opener's: where to connect again if dropped before the answer, and how many tries are left. */
  #address: DoorbellAddress | undefined;
  #attemptsLeft = 0;
  /** The opener's listener for the back line, until the creator connected to it (or it is not needed). */
  #backServer: Server | undefined;
  /** The opener's: the back line the creator connected, which it rings instead of the main line. */
  #ringOut: Socket | undefined;
  /** The creator's: the back line it connected, which it reads rings from. */
  #ringIn: Socket | undefined;
  /** Called once when the doorbell comes up. */
  onUp: (() => void) | undefined;

  private constructor() {}

  /** A doorbell for a new channel, listening (unless unsupported here); `address` goes into the segment's header. */
  static listen(): { doorbell: Doorbell; address: DoorbellAddress | undefined } {
    const doorbell = new Doorbell();
    if (!doorbellsSupported()) return { doorbell, address: undefined };
    const address = { id: randomBytes(DOORBELL_ID_BYTES), key: randomBytes(DOORBELL_KEY_BYTES) };
    const server = createServer({ allowHalfOpen: false }, (socket) =>
      doorbell.#prove(
        socket,
        address.key,
        () => doorbell.#socket === undefined,
        (rungAlready) => doorbell.#accepted(socket, rungAlready, address),
      ),
    );
    // A listen that fails (the address taken, say) leaves the channel on its futexes.
    server.on("error", () => doorbell.#stopListening());
    server.listen(doorbellPath(address.id));
    server.unref();
    doorbell.#server = server;
    return { doorbell, address };
  }

  /** Connects to the doorbell of the channel being opened, presenting its key. */
  static connect(address: DoorbellAddress): Doorbell {
    const doorbell = new Doorbell();
    doorbell.#address = address;
    doorbell.#attemptsLeft = CONNECT_ATTEMPTS;
    doorbell.#listenBack(address);
    doorbell.#dial();
    return doorbell;
  }

  #dial(): void {
    const address = this.#address!;
    this.#attemptsLeft -= 1;
    const socket = this.#connectReading(doorbellPath(address.id), address.key);
    this.#attach(socket, 0);
  }

  /**
   * Connects to `path` and presents `key`. What arrives is read into one buffer of our own (rings mean
   * nothing): a wake-up allocates nothing, where a 'data' event costs a 64 KiB allocation per read. Node
   * offers this only for sockets it connects, hence the back line: each end reads a line it connected.
   */
  #connectReading(path: string, key: Uint8Array): Socket {
    const socket = connect({
      path,
      onread: {
        buffer: Buffer.allocUnsafe(RING_READ_BYTES),
        callback: () => {
          this.#rung();
          return true;
        },
      },
    });
    socket.write(Buffer.from(key));
    return socket;
  }

  /**
   * The opener listens for the back line before it connects: the creator connects to it once it accepted
   * the opener's key, and the opener rings the creator on it from then on. Optional: a listen that fails
   * (the name taken) or a creator that never connects leaves the rings on the main line.
   */
  #listenBack(address: DoorbellAddress): void {
    const server = createServer({ allowHalfOpen: false }, (socket) =>
      this.#prove(
        socket,
        address.key,
        () => this.#ringOut === undefined,
        () => this.#backConnected(socket),
      ),
    );
    server.on("error", () => this.#stopListeningBack());
    server.listen(backLinePath(address.id));
    server.unref();
    this.#backServer = server;
  }

  /** The opener: the creator connected the back line and presented the key; ring it there from now on. */
  #backConnected(socket: Socket): void {
    this.#stopListeningBack();
    this.#ringOut = socket;
    socket.write(RING); // the answer (a ring, for the creator)
    const drop = () => {
      if (this.#ringOut === socket) this.#ringOut = undefined;
    };
    socket.on("end", drop);
    socket.on("close", drop);
  }

  /** The creator: it accepted the opener's key; connect its back line (refused by a peer that has none). */
  #connectBack(address: DoorbellAddress): void {
    const socket = this.#connectReading(backLinePath(address.id), address.key);
    socket.on("error", () => {});
    socket.unref();
    this.#ringIn = socket;
    const drop = () => {
      if (this.#ringIn === socket) this.#ringIn = undefined;
    };
    socket.on("end", drop);
    socket.on("close", drop);
  }

  /** True once both ends are connected: the peer can be rung, and its hang-up is its end. */
  get up(): boolean {
    return this.#up;
  }

  /**
   * True once the back line carries this end's rings: the opener rings the creator on it, and the creator
   * has read a byte from it (the opener's answer). @internal for tests
   */
  get backLineUp(): boolean {
    return this.#ringOut !== undefined || (this.#ringIn?.bytesRead ?? 0) > 0;
  }

  /** True once an up doorbell hung up (the peer closed or died). */
  get hungUp(): boolean {
    return this.#hungUp;
  }

  /**
   * Rings the peer (it said it sleeps on its doorbell); false when there is no line to ring, so the caller
   * uses the futex. The opener may ring before its own doorbell is up: the creator, which sleeps on its
   * doorbell from the moment it accepted the key, may be waiting for it.
   */
  ring(): boolean {
    const back = this.#ringOut;
    const socket = back !== undefined && !back.destroyed ? back : this.#socket;
    if (this.#closed || this.#hungUp || socket === undefined || socket.destroyed) return false;
    // Bytes still queued in this process mean the peer has not read an earlier ring yet: it will wake anyway.
    if (socket.writableLength === 0) socket.write(RING);
    return true;
  }

  /**
   * Resolves on the next ring, at once after a hang-up, or after `timeoutMs` (on a timer that keeps nothing
   * alive); rings that came while nobody waited are not kept.
   */
  wait(timeoutMs: number): Promise<DoorbellWait> {
    if (this.#hungUp || this.#closed) return Promise.resolve("hung-up");
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((waiter) => waiter !== settle);
        resolve("timed-out");
      }, timeoutMs).unref();
      const settle = (result: DoorbellWait) => {
        clearTimeout(timer);
        resolve(result);
      };
      this.#waiters.push(settle);
    });
  }

  /** Whether the doorbell keeps the process alive (as `socket.ref()`); it never does by default. */
  keepAlive(keep: boolean): void {
    this.#keepAlive = keep;
    if (keep) this.#socket?.ref();
    else this.#socket?.unref();
  }

  /** Hangs up (the peer sees it at once) and stops listening. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopListening();
    this.#stopListeningBack();
    this.#socket?.destroy();
    this.#ringOut?.destroy();
    this.#ringIn?.destroy();
    for (const socket of this.#unproven) socket.destroy();
    this.#settle("hung-up");
  }

  /**
   * A connection to one of this doorbell's listeners: it must present `key` in time, and only while `open()`
   * (one ever gets in); `proven` gets how many bytes came after the key.
   */
  #prove(socket: Socket, key: Uint8Array, open: () => boolean, proven: (rungAlready: number) => void): void {
    socket.on("error", () => {});
    socket.unref(); // a stranger's connection must not keep this process alive
    if (!open() || this.#closed || this.#unproven.size >= MAX_UNPROVEN_CONNECTIONS) {
      socket.destroy();
      return;
    }
    this.#unproven.add(socket);
    let finished = false;
    // Timers run before the event loop reads sockets: after a long block, read what arrived first.
    const timer = setTimeout(() => setImmediate(() => finished || socket.destroy()), KEY_TIMEOUT_MS).unref();
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.byteLength < key.byteLength) return;
      done();
      const presented = received.subarray(0, key.byteLength);
      if (!open() || this.#closed || !timingSafeEqual(presented, key)) {
        socket.destroy();
        return;
      }
      proven(received.byteLength - key.byteLength);
    };
    const done = () => {
      finished = true;
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("close", done);
      this.#unproven.delete(socket);
    };
    socket.on("data", onData);
    socket.on("close", done);
  }

  /** The creator: the opener presented the key on the main line, which is up from now on. */
  #accepted(socket: Socket, rungAlready: number, address: DoorbellAddress): void {
    this.#stopListening();
    socket.write(RING); // the answer: the opener's doorbell is up
    this.#attach(socket, rungAlready);
    this.#comeUp();
    this.#connectBack(address);
  }

  /** Makes `socket` this doorbell's line; `rungAlready` bytes of rings arrived with the key. */
  #attach(socket: Socket, rungAlready: number): void {
    this.#socket = socket;
    socket.on("error", () => {});
    if (this.#keepAlive) socket.ref();
    else socket.unref();
    socket.on("data", () => this.#rung());
    let gone = false;
    const hangUp = () => {
      if (gone || socket !== this.#socket) return;
      gone = true;
      if (this.#up) {
        this.#hungUp = true;
        this.#settle("hung-up");
      } else if (!this.#closed && this.#address !== undefined && this.#attemptsLeft > 0) {
        // Dropped before the answer (refused, or the key came too late): try again, then give up (futexes).
        setTimeout(() => this.#closed || this.#up || this.#dial(), RECONNECT_DELAY_MS).unref();
      }
    };
    socket.on("end", hangUp);
    socket.on("close", hangUp);
    if (rungAlready > 0) this.#settle("rung");
  }

  /** Bytes arrived on the line: a ring (the opener's first byte is the creator's answer). */
  #rung(): void {
    if (!this.#up) this.#comeUp();
    this.#settle("rung");
  }

  #comeUp(): void {
    if (this.#up || this.#closed) return;
    this.#up = true;
    // The creator connects the back line as soon as it accepted the key: no need to listen for long.
    if (this.#backServer !== undefined) {
      setTimeout(() => this.#stopListeningBack(), KEY_TIMEOUT_MS).unref();
    }
    this.onUp?.();
  }

  #stopListening(): void {
    const server = this.#server;
    this.#server = undefined;
    server?.close();
  }

  #stopListeningBack(): void {
    const server = this.#backServer;
    this.#backServer = undefined;
    server?.close();
  }

  #settle(result: DoorbellWait): void {
    const waiters = this.#waiters;
    if (waiters.length === 0) return;
    this.#waiters = [];
    for (const resolve of waiters) resolve(result);
  }
}
