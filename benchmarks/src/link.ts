import type { ChildProcess } from "node:child_process";
import type { Socket } from "node:net";
import type { Channel } from "@ipc/core";

/**
 * One end of a benchmarked connection, whatever the mechanism: send, receive in order, close. Each returns
 * a promise only when its API has to wait (an @ipc channel's always; a socket write only when its buffer is
 * full; a message already received is returned as it is), so that the hot loops (`sendAll`, `receiveAll`)
 * drive every mechanism as its users would: an asynchronous API awaited, a synchronous one called.
 */
export interface Link {
  send(message: unknown): void | Promise<void>;
  receive(): unknown | Promise<unknown>;
  close(): Promise<void>;
}

/** Sends `count` messages, awaiting a send only when it returned a promise. */
export async function sendAll(link: Link, count: number, message: (i: number) => unknown): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    const sent = link.send(message(i));
    if (sent !== undefined) await sent;
  }
}

/** Receives `count` messages, awaiting a receive only when it returned a promise. */
export async function receiveAll(link: Link, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    const received = link.receive();
    if (received instanceof Promise) await received;
  }
}

/** A FIFO of received messages with waiting receivers. */
export class Mailbox {
  readonly #messages: unknown[] = [];
  #head = 0;
  readonly #waiters: ((message: unknown) => void)[] = [];

  put(message: unknown): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter(message);
    else this.#messages.push(message);
  }

  /** The next message: itself when it is already here, else a promise of it. */
  take(): unknown | Promise<unknown> {
    if (this.#head < this.#messages.length) {
      const message = this.#messages[this.#head++];
      if (this.#head === this.#messages.length) {
        this.#messages.length = 0;
        this.#head = 0;
      }
      return message;
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}

/** child_process IPC: `process.send` / `'message'`, as Node users use it today. */
export function processLink(target: ChildProcess | NodeJS.Process): Link {
  const mailbox = new Mailbox();
  target.on("message", (message: unknown) => mailbox.put(message));
  return {
    send: (message) => {
      target.send!(message as object);
    },
    receive: () => mailbox.take(),
    async close() {
      if (target.connected) target.disconnect?.();
    },
  };
}

/** How a hand-written socket protocol is written. */
export interface HandWrittenOptions {
  /** Batch the writes of one tick (`cork()`, then `uncork()` on the next tick), as our channels do. */
  cork: boolean;
  /** Messages are bytes, or objects sent as JSON text. */
  codec: "bytes" | "json";
}

/**
 * A length-prefixed protocol on a `net` socket, written the way a competent user writes it: a 4-byte
 * big-endian length, then the payload. The receiver copies each frame at most once: a frame inside one
 * chunk is a view of it, one spread over chunks is copied into a buffer allocated once from its header.
 * Without `cork` the sender writes each message with one write (header and payload copied together);
 * with `cork` it writes header and payload as they are and the writes of one tick leave in one `writev`.
 */
export function handWrittenSocketLink(socket: Socket, options: HandWrittenOptions): Link {
  const mailbox = new Mailbox();
  const header = Buffer.alloc(4);
  let headerFilled = 0;
  let frame: Buffer | undefined;
  let frameFilled = 0;
  const deliver = (payload: Buffer) =>
    mailbox.put(options.codec === "json" ? JSON.parse(payload.toString("utf8")) : payload);
  socket.on("data", (chunk: Buffer) => {
    let offset = 0;
    while (offset < chunk.length) {
      if (frame === undefined) {
        if (headerFilled === 0 && chunk.length - offset >= 4) {
          const length = chunk.readUInt32BE(offset);
          if (chunk.length - offset - 4 >= length) {
            deliver(chunk.subarray(offset + 4, offset + 4 + length)); // whole frame here: no copy
            offset += 4 + length;
            continue;
          }
          frame = Buffer.allocUnsafe(length);
          frameFilled = 0;
          offset += 4;
        } else {
          const take = Math.min(4 - headerFilled, chunk.length - offset);
          chunk.copy(header, headerFilled, offset, offset + take);
          headerFilled += take;
          offset += take;
          if (headerFilled < 4) break;
          headerFilled = 0;
          frame = Buffer.allocUnsafe(header.readUInt32BE(0));
          frameFilled = 0;
        }
      }
      const take = Math.min(frame.length - frameFilled, chunk.length - offset);
      chunk.copy(frame, frameFilled, offset, offset + take);
      frameFilled += take;
      offset += take;
      if (frameFilled === frame.length) {
        const done = frame;
        frame = undefined;
        deliver(done);
      }
    }
  });
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  return {
    send(message) {
      const payload =
        options.codec === "json" ? Buffer.from(JSON.stringify(message), "utf8") : (message as Uint8Array);
      let flowing: boolean;
      if (options.cork) {
        if (!corked) {
          corked = true;
          socket.cork();
          process.nextTick(uncork);
        }
        const length = Buffer.allocUnsafe(4);
        length.writeUInt32BE(payload.byteLength, 0);
        socket.write(length);
        flowing = socket.write(payload);
      } else {
        const whole = Buffer.allocUnsafe(4 + payload.byteLength); // one write per message
        whole.writeUInt32BE(payload.byteLength, 0);
        whole.set(payload, 4);
        flowing = socket.write(whole);
      }
      if (!flowing) return new Promise((resolve) => socket.once("drain", resolve));
    },
    receive: () => mailbox.take(),
    async close() {
      socket.end();
    },
  };
}

/** What {@link pollingChannelLink} needs: an @ipc/shm channel's calls that never wait, and the waiting ones. */
export interface PollingChannel {
  trySend(message: unknown): boolean;
  tryReceive(): unknown;
  send(message: unknown): Promise<void>;
  receive(): Promise<unknown>;
  close(): Promise<void>;
}

/** How long a polling link polls before it waits the ordinary way (ms). */
const POLL_MS = 2;
/** Empty polls between looks at the clock. */
const POLLS_PER_CLOCK = 1024;

/**
 * An @ipc/shm channel driven by polling, as a hot loop uses it: `trySend` until the message is taken,
 * `tryReceive` until one is there, with the event loop blocked meanwhile. After 2 ms of empty polls it
 * waits with `send` / `receive` instead, as a polling worker with nothing to do would (between rounds,
 * when every mechanism's peer is up and idle on the same CPU, a peer polling for ever would slow the
 * others; a dead peer is then reported too).
 */
export function pollingChannelLink(channel: PollingChannel): Link {
  return {
    send(message) {
      if (channel.trySend(message)) return;
      if (!pollFor(() => channel.trySend(message) || undefined)) return channel.send(message);
    },
    receive() {
      const message = channel.tryReceive();
      if (message !== undefined) return message;
      return pollFor(() => channel.tryReceive()) ?? channel.receive();
    },
    close: () => channel.close(),
  };
}

/** Calls `poll` until it gives something other than undefined, for up to POLL_MS; undefined after that. */
function pollFor<T>(poll: () => T | undefined): T | undefined {
  let until = 0;
  for (let polls = 1; ; polls += 1) {
    const got = poll();
    if (got !== undefined) return got;
    if (polls % POLLS_PER_CLOCK === 0) {
      const now = performance.now();
      if (until === 0) until = now + POLL_MS;
      else if (now >= until) return undefined;
    }
  }
}

/** An @ipc channel, whatever its transport. */
export function channelLink(channel: Channel<unknown>): Link {
  return {
    send: (message) => channel.send(message),
    receive: () => channel.receive(),
    close: () => channel.close(),
  };
}
