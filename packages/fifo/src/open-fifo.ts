import { constants } from "node:fs";
import { Socket } from "node:net";
import {
  type Channel,
  type ChannelEnd,
  type ChannelOptions,
  createStreamChannel,
  type IpcError,
  joinChannels,
  type Receiver,
  type Sender,
  type WaitOptions,
} from "@ipc/core";
import { checkWaitOptions } from "@ipc/core/transport";
import { type CreateFifoOptions, createFifo, unlinkFifo } from "./create-fifo.js";
import { closeQuietly, openFifoDescriptor, waitForReader } from "./fifo-descriptor.js";
import { PersistentFifoReceiver } from "./persistent-receiver.js";
import type { FifoTrust } from "./trust.js";

/** Bytes one write(2) to a pipe is guaranteed atomic for (PIPE_BUF): 4096 on Linux, 512 (POSIX minimum) elsewhere. */
export const PIPE_BUF_BYTES = process.platform === "linux" ? 4096 : 512;

/** Options every FIFO end takes: its channel options, and whether it creates (and so owns) the FIFO. */
export interface OpenFifoOptions<T> extends ChannelOptions<T> {
  /** Create the FIFO if it does not exist (with these options); this end then owns it. @default false */
  create?: boolean | Omit<CreateFifoOptions, "exclusive">;
  /** When an end that created its FIFO removes the name: as it closes, or never (`unlinkFifo` is yours). @default "on-close" */
  unlink?: "on-close" | "never";
  /** Which FIFO it may open: one this user owns, that others cannot write, not through a symlink (`"owner"`), or any (`"any"`). @default "owner" */
  trust?: FifoTrust;
}

/** Options for {@link openFifoReceiver}. */
export interface OpenFifoReceiverOptions<T> extends OpenFifoOptions<T> {
  /**
   * Serve writer after writer: when the last writer closes, keep receiving from the next ones instead of
   * ending. Writers must write each message whole, in one write of at most PIPE_BUF bytes (`shared: true`
   * senders do; in Python, one `os.write` of header and payload): a message a writer leaves unfinished is
   * then dropped and reported, never joined with the next writer's bytes. @default false
   */
  persistent?: boolean;
  /** With `persistent`: told when a writer left a message unfinished (it died mid-message, or did not write it whole); that message is lost. */
  onWriterGone?: (error: IpcError) => void;
}

/** Options for {@link openFifoSender}. */
export interface OpenFifoSenderOptions<T> extends OpenFifoOptions<T>, WaitOptions {
  /** Wait for a reader to open the FIFO (`signal` and `timeout` bound the wait); `false` fails at once with `ERR_IPC_FIFO_NO_READER`. @default true */
  wait?: boolean;
  /** Several writers share the FIFO: each message is written whole in one write of at most PIPE_BUF bytes, so messages never interleave; larger ones are refused. @default false */
  shared?: boolean;
}

/** Options for {@link openFifoChannel}: those of both ends. */
export interface OpenFifoChannelOptions<T> extends OpenFifoSenderOptions<T> {}

/**
 * Opens the reading end of the FIFO at `path` as a receiver, at once: a reader needs no writer to open
 * (O_NONBLOCK), and waiting for messages is `receive`'s business (with its own signal and timeout). The
 * receiver ends when the last writer closes, unless `persistent`.
 * @throws `ERR_IPC_FIFO_NOT_FOUND`, `ERR_IPC_FIFO_NOT_A_FIFO`, `ERR_IPC_FIFO_PERMISSION`
 */
export async function openFifoReceiver<T = unknown>(
  path: string,
  options: OpenFifoReceiverOptions<T> = {},
): Promise<Receiver<T>> {
  const owned = await prepare(path, options);
  const onCutFrame = options.persistent ? (options.onWriterGone ?? (() => {})) : undefined;
  const open = () =>
    createStreamChannel<T>(
      new Socket({
        fd: openFifoDescriptor(path, constants.O_RDONLY, options.trust),
        readable: true,
        writable: false,
      }),
      { ...channelOptions(options), direction: "receive", onCutFrame },
    );
  let receiver: Receiver<T>;
  if (options.persistent) {
    // A second read descriptor that is never read keeps the FIFO open between writers: writers can
    // always open, and what one writes before the reader reopens is not thrown away with the last reader.
    const keeper = openFifoDescriptor(path, constants.O_RDONLY, options.trust);
    receiver = new PersistentFifoReceiver<T>(open, options.onWriterGone, () => closeQuietly(keeper));
  } else {
    receiver = open();
  }
  return owned ? unlinkedWhenClosed(receiver, path) : receiver;
}

/**
 * Opens the writing end of the FIFO at `path` as a sender once a reader has it open, waiting without
 * blocking the event loop or a threadpool thread (non-blocking opens, retried with backoff).
 * @throws `ERR_IPC_FIFO_NO_READER` (`wait: false`), `ERR_IPC_TIMEOUT`, `ERR_IPC_ABORTED`,
 * `ERR_IPC_FIFO_NOT_FOUND`, `ERR_IPC_FIFO_NOT_A_FIFO`, `ERR_IPC_FIFO_PERMISSION`
 */
export async function openFifoSender<T = unknown>(
  path: string,
  options: OpenFifoSenderOptions<T> = {},
): Promise<Sender<T>> {
  checkWaitOptions(options, "open the FIFO for writing");
  const owned = await prepare(path, options);
  let fd: number;
  try {
    fd =
      options.wait === false
        ? openFifoDescriptor(path, constants.O_WRONLY, options.trust)
        : await waitForReader(path, options, options.trust);
  } catch (error) {
    if (owned) unlinkFifo(path);
    throw error;
  }
  const sender = createStreamChannel<T>(new Socket({ fd, readable: false, writable: true }), {
    ...channelOptions(options),
    direction: "send",
    atomicWriteBytes: options.shared ? PIPE_BUF_BYTES : undefined,
  });
  return owned ? unlinkedWhenClosed(sender, path) : sender;
}

/**
 * A duplex conversation over two FIFOs between two unrelated processes: this side receives from
 * `receivePath` and sends to `sendPath`; the other side passes them the other way round. The receiver is
 * opened first, so two sides opening at the same time never wait on each other.
 */
export async function openFifoChannel<T = unknown>(
  receivePath: string,
  sendPath: string,
  options: OpenFifoChannelOptions<T> = {},
): Promise<Channel<T>> {
  const receiver = await openFifoReceiver<T>(receivePath, options);
  try {
    return joinChannels(receiver, await openFifoSender<T>(sendPath, options));
  } catch (error) {
    await receiver.close();
    throw error;
  }
}

function channelOptions<T>(options: OpenFifoOptions<T>): ChannelOptions<T> {
  return {
    codec: options.codec,
    maxFrameSize: options.maxFrameSize,
    receiveHighWaterMark: options.receiveHighWaterMark,
  };
}

/** Creates the FIFO if asked and checks it is one; true when this call created it and must unlink it at close. */
async function prepare(path: string, options: OpenFifoOptions<unknown>): Promise<boolean> {
  if (!options.create) return false;
  const created = await createFifo(path, {
    ...(options.create === true ? {} : options.create),
    exclusive: false,
    trust: options.trust,
  });
  return created && options.unlink !== "never";
}

/** `end`, with the FIFO's name removed as it closes (however it closes), before `close()` resolves. */
function unlinkedWhenClosed<E extends ChannelEnd>(end: E, path: string): E {
  // `closed` settles before `close()` resolves, and the unlink is synchronous.
  void end.closed.then(() => unlinkFifo(path));
  return end;
}
