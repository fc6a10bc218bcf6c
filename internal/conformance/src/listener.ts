import { type Channel, IpcErrorCode, type Listener } from "@ipc/core";
import { describe, expect, it } from "vitest";
import { expectCode } from "./context.js";

/** A listener under test, with clients connecting from this process. */
export interface ListenerSubject {
  name: string;
  /** Starts a listener at `address`, or at a fresh one. */
  listen(address?: string): Promise<Listener<Channel<unknown>>>;
  /** Connects a client to `address`. */
  connect(address: string): Promise<Channel<unknown>>;
}

/** Milliseconds any close may take in these checks before it counts as a hang. */
const CLOSE_LIMIT_MS = 10_000;

/** Runs the listener contract checks on `subject`. */
export function describeListenerConformance(subject: ListenerSubject): void {
  const settlesSoon = async (promise: Promise<unknown>, what: string) => {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${what} did not settle within ${CLOSE_LIMIT_MS} ms`)),
        CLOSE_LIMIT_MS,
      );
    });
    try {
      await Promise.race([promise, limit]);
    } finally {
      clearTimeout(timer);
    }
  };

  describe(`${subject.name}: listener conformance`, () => {
    it("accepts a client whose channel carries messages both ways", async () => {
      await using listener = await subject.listen();
      expect(typeof listener.address).toBe("string");
      await using client = await subject.connect(listener.address);
      await using server = await listener.accept({ timeout: 10_000 });
      await client.send("ping");
      expect(await server.receive({ timeout: 10_000 })).toBe("ping");
      await server.send("pong");
      expect(await client.receive({ timeout: 10_000 })).toBe("pong");
    });

    it("yields every client from for await, each its own channel", async () => {
      await using listener = await subject.listen();
      const clients = await Promise.all([0, 1, 2].map(() => subject.connect(listener.address)));
      await Promise.all(clients.map((client, i) => client.send(i)));
      const seen: unknown[] = [];
      for await (const channel of listener) {
        seen.push(await channel.receive({ timeout: 10_000 }));
        await channel.close();
        if (seen.length === 3) break;
      }
      expect(seen.sort()).toEqual([0, 1, 2]);
      await Promise.all(clients.map((client) => client.close()));
    });

    it("rejects accept with ERR_IPC_TIMEOUT or ERR_IPC_ABORTED, and a client that comes later is still accepted", async () => {
      await using listener = await subject.listen();
      await expectCode(listener.accept({ timeout: 30 }), IpcErrorCode.TIMEOUT);
      await expectCode(listener.accept({ signal: AbortSignal.abort() }), IpcErrorCode.ABORTED);
      const controller = new AbortController();
      const aborted = expectCode(listener.accept({ signal: controller.signal }), IpcErrorCode.ABORTED);
      controller.abort();
      await aborted;
      await using client = await subject.connect(listener.address);
      await using server = await listener.accept({ timeout: 10_000 });
      await client.send("after");
      expect(await server.receive({ timeout: 10_000 })).toBe("after");
    });

    it("rejects a pending and a later accept with ERR_IPC_CLOSED, and ends iteration, once closed", async () => {
      const listener = await subject.listen();
      const pending = expectCode(listener.accept(), IpcErrorCode.CLOSED);
      const iterator = listener[Symbol.asyncIterator]();
      const next = iterator.next();
      await settlesSoon(listener.close(), "close");
      await pending;
      expect(await next).toEqual({ done: true, value: undefined });
      await expectCode(listener.accept(), IpcErrorCode.CLOSED);
    });

    it("settles close whoever closes first: the client, the listener, or both at once", async () => {
      for (const order of ["client first", "listener first", "together"] as const) {
        const listener = await subject.listen();
        const client = await subject.connect(listener.address);
        const server = await listener.accept({ timeout: 10_000 });
        await client.send(order);
        expect(await server.receive({ timeout: 10_000 })).toBe(order);
        if (order === "client first") {
          await settlesSoon(client.close(), "the client's close");
          await settlesSoon(listener.close(), "the listener's close");
        } else if (order === "listener first") {
          const closing = listener.close();
          await settlesSoon(client.close(), "the client's close");
          await settlesSoon(closing, "the listener's close");
        } else {
          await settlesSoon(Promise.all([client.close(), listener.close()]), "closing both");
        }
        await settlesSoon(server.closed, "the accepted channel's closed");
        expect(server.state).toBe("closed");
      }
    });

    it("makes close idempotent and releases the address for a new listener", async () => {
      const listener = await subject.listen();
      const address = listener.address;
      await Promise.all([listener.close(), listener.close()]);
      await listener.close();
      await using again = await subject.listen(address);
      await using client = await subject.connect(again.address);
      await using server = await again.accept({ timeout: 10_000 });
      await client.send("reused");
      expect(await server.receive({ timeout: 10_000 })).toBe("reused");
    });

    it("closes at the end of an `await using` block", async () => {
      let address = "";
      {
        await using listener = await subject.listen();
        address = listener.address;
      }
      await using again = await subject.listen(address);
      expect(again.address).toBe(address);
    });
  });
}
