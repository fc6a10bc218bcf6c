import { closeSync, constants, fstatSync, openSync } from "node:fs";
import { Socket } from "node:net";
import { type Channel, type ChannelEnd, type ChannelOptions, type CloseOptions, createStreamChannel, IpcError, IpcErrorCode, joinChannels, type Receiver, type Sender, type WaitOptions } from "@ipc/core";
import { cancellableWait, checkWaitOptions } from "@ipc/core/transport";
import { type CreateFifoOptions, createFifo, notAFifo, removeFifo } from "./create-fifo.js";
import { FifoErrorCode } from "./errors.js";
import { ServingFifoReader } from "./serving-reader.js";

/** Bytes one write(2) to a pipe is guaranteed atomic for (PIPE_BUF): 4096 on Linux, 512 (POSIX minimum) elsewhere. */
export const PIPE_BUF_BYTES = process.platform === "linux" ? 4096 : 512;
/** Longest pause between attempts while a writer waits for a reader. */
const MAX_POLL_INTERVAL_MS = 50;

/** Options shared by both ends. */
export interface OpenFifoOptions<T> extends ChannelOptions<T> {
  /** Create the FIFO if it does not exist (with these options); the opener then owns it. @default false */
  create?: boolean | Omit<CreateFifoOptions, "exclusive">;
  /** Keep a FIFO this end created when it closes (by default its owner removes it). @default false */
  keep?: boolean;
}

/** Options for {@link openFifoReader}. */
export interface OpenFifoReaderOptions<T> extends OpenFifoOptions<T> {
  /** Serve writer after writer: when the last writer closes, keep reading from the next ones instead of ending. @default false */
  persistent?: boolean;
  /** With `persistent`: told when a writer died in the middle of a message (that message is lost). */
  onWriterGone?: (error: IpcError) => void;
}

/** Options for {@link openFifoWriter}. */
export interface OpenFifoWriterOptions<T> extends OpenFifoOptions<T>, WaitOptions {
  /** Wait for a reader to open the FIFO (`signal` and `timeout` bound the wait); `false` fails at once with `ERR_IPC_FIFO_NO_READER`. @default true */
  wait?: boolean;
  /** Several writers share the FIFO: each message is written whole in one write of at most PIPE_BUF bytes, so messages never interleave; larger ones are refused. @default false */
  shared?: boolean;
}

/**
 * Opens the reading end of the FIFO at `path` as a receive-only channel, at once: a reader needs no
 * writer to open (O_NONBLOCK), and waiting for messages is `receive`'s business (with its own signal and
 * timeout). The channel ends when the last writer closes, unless `persistent`.
 * @throws `ERR_IPC_FIFO_NOT_FOUND`, `ERR_IPC_FIFO_NOT_A_FIFO`, `ERR_IPC_FIFO_PERMISSION`
 */
export async function openFifoReader<T = unknown>(
  path: string,
  options: OpenFifoReaderOptions<T> = {},
): Promise<Receiver<T>> {
  const owned = await prepare(path, options);
  const open = () =>
    createStreamChannel<T>(
      new Socket({ fd: openEnd(path, constants.O_RDONLY), readable: true, writable: false }),
      {
        direction: "receive",
        codec: options.codec,
        maxFrameSize: options.maxFrameSize,
      },
    );
  let reader: Receiver<T>;
  if (options.persistent) {
    // A second read descriptor that is never read keeps the FIFO open between writers: writers can
    // always open, and what one writes before the reader reopens is not thrown away with the last reader.
    const keeper = openEnd(path, constants.O_RDONLY);
    reader = new ServingFifoReader<T>(open, options.onWriterGone, () => closeQuietly(keeper));
  } else {
    reader = open();
  }
  return owned ? removedOnClose(reader, path) : reader;
}

/**
 * Opens the writing end of the FIFO at `path` as a send-only channel once a reader has it open, waiting
 * without blocking the event loop or a threadpool thread (non-blocking opens, retried with backoff).
 * @throws `ERR_IPC_FIFO_NO_READER` (`wait: false`), `ERR_IPC_TIMEOUT`, `ERR_IPC_ABORTED`,
 * `ERR_IPC_FIFO_NOT_FOUND`, `ERR_IPC_FIFO_NOT_A_FIFO`, `ERR_IPC_FIFO_PERMISSION`
 */
export async function openFifoWriter<T = unknown>(
  path: string,
  options: OpenFifoWriterOptions<T> = {},
): Promise<Sender<T>> {
  checkWaitOptions(options, "open the FIFO for writing");
  const owned = await prepare(path, options);
  let fd: number;
  try {
    fd = options.wait === false ? openWriterNow(path) : await waitForReader(path, options);
  } catch (error) {
    if (owned) await removeFifo(path);
    throw error;
  }
  const channel = createStreamChannel<T>(new Socket({ fd, readable: false, writable: true }), {
    direction: "send",
    codec: options.codec,
    maxFrameSize: options.maxFrameSize,
    atomicWriteBytes: options.shared ? PIPE_BUF_BYTES : undefined,
  });
  return owned ? removedOnClose(channel, path) : channel;
}

/** Options for {@link openFifoPair}. */
export interface OpenFifoPairOptions<T> extends OpenFifoWriterOptions<T> {}

/**
 * A duplex conversation over two FIFOs between two unrelated processes: this side reads `readPath` and
 * writes `writePath`; the other side passes them the other way round. The reader is opened first, so
 * two sides opening at the same time never wait on each other.
 */
export async function openFifoPair<T = unknown>(
  readPath: string,
  writePath: string,
  options: OpenFifoPairOptions<T> = {},
): Promise<Channel<T>> {
  const receiver = await openFifoReader<T>(readPath, options);
  try {
    return joinChannels(receiver, await openFifoWriter<T>(writePath, options));
  } catch (error) {
    await receiver.close();
    throw error;
  }
}

/** Creates the FIFO if asked and checks it is one; true when this call created it (and so owns it). */
async function prepare(path: string, options: OpenFifoOptions<unknown>): Promise<boolean> {
  if (options.create) {
    const created = await createFifo(path, {
      ...(options.create === true ? {} : options.create),
      exclusive: false,
    });
    return created && !options.keep;
  }
  return false;
}

/** open(2) with O_NONBLOCK, which returns at once for FIFOs (synchronously: no threadpool thread). */
function openEnd(path: string, access: number): number {
  let fd: number;
  try {
    // libuv adds O_CLOEXEC itself: children never inherit the descriptor.
    fd = openSync(path, access | constants.O_NONBLOCK);
  } catch (error) {
    throw openError(error as NodeJS.ErrnoException, path);
  }
  if (!fstatSync(fd).isFIFO()) {
    closeQuietly(fd);
    throw notAFifo(path, "not a FIFO");
  }
  return fd;
}

function openWriterNow(path: string): number {
  return openEnd(path, constants.O_WRONLY);
}

/** Retries the non-blocking open while there is no reader (ENXIO), backing off up to 50 ms. */
function waitForReader(path: string, options: WaitOptions): Promise<number> {
  return cancellableWait<number>(`open ${path} for writing (waiting for a reader)`, options, (settlers) => {
    let timer: NodeJS.Timeout | undefined;
    let interval = 1;
    const attempt = () => {
      try {
        settlers.resolve(openWriterNow(path));
      } catch (error) {
        if ((error as IpcError).code !== FifoErrorCode.NO_READER) {
          settlers.reject(error);
          return;
        }
        interval = Math.min(MAX_POLL_INTERVAL_MS, interval * 2);
        timer = setTimeout(attempt, interval);
      }
    };
    attempt();
    return () => clearTimeout(timer);
  });
}

function openError(error: NodeJS.ErrnoException, path: string): IpcError {
  const details = { cause: error, errno: error.code ?? "UNKNOWN", syscall: "open", path };
  switch (error.code) {
    case "ENXIO":
      return new IpcError(
        FifoErrorCode.NO_READER,
        `no process has ${path} open for reading yet; start the reader first, or open with wait: true`,
        details,
      );
    case "ENOENT":
      return new IpcError(
        FifoErrorCode.NOT_FOUND,
        `${path} does not exist; create it with createFifo(), or pass create: true`,
        details,
      );
    case "EACCES":
    case "EPERM":
      return new IpcError(
        FifoErrorCode.PERMISSION,
        `permission denied opening ${path}; FIFOs are private to their owner by default (mode 0600)`,
        details,
      );
    default:
      return new IpcError(IpcErrorCode.SYSTEM, `open ${path}: ${error.message}`, details);
  }
}

/** `end`, whose `close()` also removes the FIFO it created (as does any other way it closes). */
function removedOnClose<E extends ChannelEnd>(end: E, path: string): E {
  void end.closed.then(() => removeFifo(path));
  let closing: Promise<void> | undefined;
  const close = (options?: CloseOptions) => {
    closing ??= end.close(options).then(() => removeFifo(path));
    return closing;
  };
  return new Proxy(end, {
    get(target, property) {
      if (property === "close") return close;
      if (property === Symbol.asyncDispose) return () => close();
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed.
  }
}
