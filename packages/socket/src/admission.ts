import type { Socket } from "node:net";
import type { IpcError } from "@ipc/core";
import { IpcError as IpcErrorClass } from "@ipc/core";
import { SocketErrorCode } from "./errors.js";

/** One accepted connection, from the moment it is accepted. */
interface Admitted {
  readonly socket: Socket;
  readonly since: number;
  /** Authenticated (with an authkey) or has sent something (without one): never evicted. */
  proven: boolean;
}

/**
 * Who may hold a listener's connection slots. Every accepted connection counts, from its first byte of
 * handshake on. At the limit, a newcomer takes the slot of the oldest connection that has not proven
 * itself yet (still in its authkey handshake, or, without an authkey, not having sent anything), so a
 * crowd of idle or half-open connections cannot lock legitimate clients out; when every slot is held by
 * a proven connection, the newcomer is refused. Both are reported, never silent.
 */
export class Admission {
  readonly #limit: number;
  readonly #report: (error: IpcError) => void;
  readonly #admitted = new Map<Socket, Admitted>();

  constructor(limit: number, report: (error: IpcError) => void) {
    this.#limit = limit;
    this.#report = report;
  }

  /** Connections holding a slot now. */
  get size(): number {
    return this.#admitted.size;
  }

  /** Takes a slot for `socket`, evicting an unproven connection if it must; false when refused (it is destroyed). */
  admit(socket: Socket): boolean {
    if (this.#admitted.size >= this.#limit && !this.#evictOne()) {
      socket.destroy();
      this.#report(
        new IpcErrorClass(
          SocketErrorCode.REFUSED,
          `refused a connection: all ${this.#limit} slots (maxConnections) are held by connections that authenticated or sent messages; raise maxConnections or close idle clients`,
        ),
      );
      return false;
    }
    this.#admitted.set(socket, { socket, since: performance.now(), proven: false });
    socket.once("close", () => this.#admitted.delete(socket));
    return true;
  }

  /** `socket` authenticated, or sent its first bytes: it keeps its slot from now on. */
  prove(socket: Socket): void {
    const entry = this.#admitted.get(socket);
    if (entry !== undefined) entry.proven = true;
  }

  #evictOne(): boolean {
    let oldest: Admitted | undefined;
    for (const entry of this.#admitted.values()) {
      if (!entry.proven && (oldest === undefined || entry.since < oldest.since)) oldest = entry;
    }
    if (oldest === undefined) return false;
    this.#admitted.delete(oldest.socket);
    oldest.socket.destroy();
    this.#report(
      new IpcErrorClass(
        SocketErrorCode.EVICTED,
        `closed a connection that had neither authenticated nor sent anything for ${Math.round(performance.now() - oldest.since)} ms, to make room for a new one (maxConnections reached)`,
      ),
    );
    return true;
  }
}
