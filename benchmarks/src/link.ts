import type { ChildProcess } from "node:child_process";
import type { Socket } from "node:net";
import type { Channel } from "@ipc/core";

/** One end of a benchmarked connection, whatever the mechanism: send, receive in order, close. */
export interface Link {
  send(message: unknown): void | Promise<void>;
  receive(): Promise<unknown>;
  close(): Promise<void>;
}

/** A FIFO of received messages with waiting receivers. */
class Mailbox {
  readonly #messages: unknown[] = [];
  #head = 0;
  readonly #waiters: ((message: unknown) => void)[] = [];

  put(message: unknown): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter(message);
    else this.#messages.push(message);
  }

  take(): Promise<unknown> {
    if (this.#head < this.#messages.length) {
      const message = this.#messages[this.#head++];
      if (this.#head === this.#messages.length) {
        this.#messages.length = 0;
        this.#head = 0;
      }
      return Promise.resolve(message);
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
      target.disconnect?.();
    },
  };
}

/** A hand-written length-prefixed protocol on a `net` socket: one write per message, 4-byte header. */
export function handWrittenSocketLink(socket: Socket): Link {
  const mailbox = new Mailbox();
  let pending: Buffer = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const length = pending.readUInt32BE(0);
      if (pending.length < 4 + length) break;
      mailbox.put(pending.subarray(4, 4 + length));
      pending = pending.subarray(4 + length);
    }
  });
  return {
    send(message) {
      const payload = message as Uint8Array;
      const frame = Buffer.allocUnsafe(4 + payload.byteLength);
      frame.writeUInt32BE(payload.byteLength, 0);
      frame.set(payload, 4);
      if (!socket.write(frame)) return new Promise((resolve) => socket.once("drain", resolve));
    },
    receive: () => mailbox.take(),
    async close() {
      socket.end();
    },
  };
}

/** An @ipc channel, whatever its transport. */
export function channelLink(channel: Channel<unknown>): Link {
  return {
    send: (message) => channel.send(message),
    receive: () => channel.receive(),
    close: () => channel.close(),
  };
}
