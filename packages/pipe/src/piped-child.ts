import type { ChildProcess } from "node:child_process";
import type { Socket } from "node:net";
import {
  type Channel,
  type ChannelDirection,
  IpcError,
  IpcErrorCode,
  type Receiver,
  type Sender,
} from "@ipc/core";
import { type ChildExit, exitOf } from "./child-exit.js";

/** Milliseconds between SIGTERM and SIGKILL when a child is stopped. */
export const DEFAULT_STOP_TIMEOUT_MS = 5_000;

/** One pipe as the parent holds it: a channel, or the raw stream. */
export interface ParentPipe {
  direction: ChannelDirection;
  channel?: Channel<unknown>;
  stream: Socket;
}

/** A child process and the parent's ends of its pipes. Disposing it closes the pipes (and may stop the child). */
export class PipedChild implements AsyncDisposable {
  /** The child process handle (pid, stdio, kill, ...). */
  readonly process: ChildProcess;
  /** Settles once, when the child has exited. */
  readonly exited: Promise<ChildExit>;
  readonly #pipes: ParentPipe[];
  readonly #stopTimeout: number | undefined;

  /** @internal Made by `spawnWithPipes` / `forkWithPipes`. */
  constructor(child: ChildProcess, pipes: ParentPipe[], stopTimeout: number | undefined) {
    this.process = child;
    this.exited = exitOf(child);
    this.#pipes = pipes;
    this.#stopTimeout = stopTimeout;
    const channels = pipes.flatMap((pipe) => (pipe.channel ? [pipe.channel] : []));
    if (stopTimeout !== undefined && channels.length > 0) {
      // Once this side has closed (disposed) every channel, stop the child; a child that closed them
      // itself is left to finish on its own.
      void Promise.all(channels.map((channel) => channel.closed)).then((infos) => {
        if (infos.every((info) => info.initiator === "local")) void this.stop(stopTimeout);
      });
    }
  }

  /** The child's process id. */
  get pid(): number | undefined {
    return this.process.pid;
  }

  /** Number of pipes to the child. */
  get pipeCount(): number {
    return this.#pipes.length;
  }

  /** The duplex channel of pipe `index`. @throws `ERR_IPC_INVALID_ARGUMENT` for a one-way or raw pipe */
  channel<T = unknown>(index = 0): Channel<T> {
    return this.#channel(index, ["duplex"], "channel") as Channel<T>;
  }

  /** The sending end of pipe `index` (a `"send"` or `"duplex"` pipe). */
  sender<T = unknown>(index = 0): Sender<T> {
    return this.#channel(index, ["send", "duplex"], "sender") as Sender<T>;
  }

  /** The receiving end of pipe `index` (a `"receive"` or `"duplex"` pipe). */
  receiver<T = unknown>(index = 0): Receiver<T> {
    return this.#channel(index, ["receive", "duplex"], "receiver") as Receiver<T>;
  }

  /** The raw byte stream of pipe `index`, opened with `raw: true`. */
  stream(index = 0): Socket {
    const pipe = this.#pipe(index);
    if (pipe.channel !== undefined) {
      throw new IpcError(
        IpcErrorCode.INVALID_ARGUMENT,
        `pipe ${index} carries messages; open it with { raw: true } to get its byte stream`,
      );
    }
    return pipe.stream;
  }

  /** Closes every pipe (flushing what was sent); the child sees its channels end. Stops it too if asked to. */
  async close(): Promise<void> {
    await Promise.all(
      this.#pipes.map((pipe) =>
        pipe.channel ? pipe.channel.close() : new Promise<void>((resolve) => pipe.stream.end(resolve)),
      ),
    );
    if (this.#stopTimeout !== undefined) await this.stop(this.#stopTimeout);
  }

  /** SIGTERM, then SIGKILL after `timeout` ms; resolves with how the child ended. */
  async stop(timeout: number = DEFAULT_STOP_TIMEOUT_MS): Promise<ChildExit> {
    const child = this.process;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), timeout);
      await this.exited;
      clearTimeout(killer);
    }
    return this.exited;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #pipe(index: number): ParentPipe {
    const pipe = this.#pipes[index];
    if (pipe === undefined) {
      throw new IpcError(
        IpcErrorCode.INVALID_ARGUMENT,
        `this child has ${this.#pipes.length} pipe(s); there is no pipe ${index}`,
      );
    }
    return pipe;
  }

  #channel(index: number, allowed: ChannelDirection[], what: string): Channel<unknown> {
    const pipe = this.#pipe(index);
    if (pipe.channel === undefined) {
      throw new IpcError(IpcErrorCode.INVALID_ARGUMENT, `pipe ${index} is raw; use stream(${index})`);
    }
    if (!allowed.includes(pipe.direction)) {
      throw new IpcError(
        IpcErrorCode.INVALID_ARGUMENT,
        `pipe ${index} is "${pipe.direction}" from this side, so it has no ${what}; use ${pipe.direction === "send" ? "sender" : "receiver"}(${index})`,
      );
    }
    return pipe.channel;
  }
}
