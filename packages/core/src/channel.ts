import type { Codec } from "./codec.js";
import type { IpcError } from "./errors.js";
import type { WaitOptions } from "./wait.js";

/** Which way messages flow through a channel end. */
export type ChannelDirection = "duplex" | "send" | "receive";

/** Options for {@link Sender.send}. */
export interface SendOptions extends WaitOptions {}

/** Options for {@link Sender.flush}. */
export interface FlushOptions extends WaitOptions {}

/** Options for {@link Receiver.receive}. */
export interface ReceiveOptions extends WaitOptions {}

/** Options for {@link ChannelEnd.close}. */
export interface CloseOptions {
  /** Milliseconds to wait for already-sent messages to flush before the channel is cut. @default 10000 */
  timeout?: number;
}

/** How a channel ended, as reported by {@link ChannelEnd.closed}. */
export interface CloseInfo {
  /** `"local"`: this end called `close()`; `"peer"`: the peer closed or went away; `"error"`: a protocol or system error. */
  readonly initiator: "local" | "peer" | "error";
  /** Why, when it was not a clean close: `ERR_IPC_PEER_GONE`, `ERR_IPC_FRAME_TOO_LARGE`, ... */
  readonly error?: IpcError;
}

/** Life-cycle state of a channel end. */
export type ChannelState = "open" | "closing" | "closed";

/** What every channel end has, whichever way its messages flow. */
export interface ChannelEnd extends AsyncDisposable {
  /** `"open"` until `close()` is called or the connection ends. */
  readonly state: ChannelState;
  /** Settles once, when the channel is closed (messages already received stay readable), and never rejects. */
  readonly closed: Promise<CloseInfo>;
  /** Idempotent: flushes what was already sent (within `timeout`), then closes; pending receives reject with `ERR_IPC_CLOSED`. */
  close(options?: CloseOptions): Promise<void>;
  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
  /**
   * Keeps the process alive while this end is open, even when nothing waits on it (as `net.Socket#ref`).
   * By default an open end keeps the process alive only while a receive, an iteration step or a send is
   * waiting on it: a child whose work is done exits, as Python's does.
   */
  ref(): this;
  /** Back to the default: the process stays alive for this end only while something waits on it. */
  unref(): this;
}

/** The sending side of a channel. */
export interface Sender<T> extends ChannelEnd {
  /**
   * Resolves once the message is accepted whole for delivery; the caller may then reuse what it passed.
   * Waits while the peer is not keeping up (backpressure); a send that rejects (abort, timeout) sent nothing.
   * Messages from one sender arrive in the order their `send` calls were made, each exactly once.
   * @throws `ERR_IPC_CLOSED`, `ERR_IPC_ENCODE`, `ERR_IPC_FRAME_TOO_LARGE`, `ERR_IPC_ABORTED`, `ERR_IPC_TIMEOUT`, `ERR_IPC_PEER_GONE`
   */
  send(message: T, options?: SendOptions): Promise<void>;
  /**
   * Resolves once every message whose `send` was called before has left this process: handed to the
   * kernel (streams) or written into the shared ring (shared memory). It does not mean the peer has read
   * them: a peer that dies may still lose them (see the transport's README).
   * @throws `ERR_IPC_CLOSED`, `ERR_IPC_PEER_GONE` (they can no longer leave), `ERR_IPC_ABORTED`, `ERR_IPC_TIMEOUT`
   */
  flush(options?: FlushOptions): Promise<void>;
}

/** The receiving side of a channel. */
export interface Receiver<T> extends ChannelEnd, AsyncIterable<T> {
  /**
   * Resolves with the next message. A rejected receive consumed nothing, except `ERR_IPC_DECODE`, which
   * consumed the one undecodable message and leaves the channel usable.
   * @throws `ERR_IPC_CLOSED` (peer closed and nothing is buffered, or closed locally), `ERR_IPC_DECODE`,
   * `ERR_IPC_ABORTED`, `ERR_IPC_TIMEOUT`, `ERR_IPC_PEER_GONE`, `ERR_IPC_FRAME_TOO_LARGE`, `ERR_IPC_PROTOCOL`
   */
  receive(options?: ReceiveOptions): Promise<T>;
  /** Yields messages in order until the channel closes cleanly, then ends; throws any other error. */
  [Symbol.asyncIterator](): AsyncIterator<T>;
}

/** One connected, duplex endpoint carrying whole messages of type `T`. */
export interface Channel<T> extends Sender<T>, Receiver<T> {}

/** Options every function that makes a channel accepts. */
export interface ChannelOptions<T> {
  /** How messages become bytes; both ends must use the same. @default json */
  codec?: Codec<T> | undefined;
  /** Largest frame payload accepted or sent, in bytes. @default 64 MiB */
  maxFrameSize?: number | undefined;
  /**
   * Bytes of received messages buffered for a reader that is not reading, before the channel stops
   * taking more from the peer (each message counts at least 64 bytes). @default 1 MiB
   */
  receiveHighWaterMark?: number | undefined;
}

/** Accepts connected channels; `for await` yields each until the listener closes. */
export interface Listener<C> extends AsyncIterable<C>, AsyncDisposable {
  /** Where peers connect (a path, a `host:port`, ...). */
  readonly address: string;
  /** Resolves with the next connected channel. @throws `ERR_IPC_CLOSED` once the listener is closed, `ERR_IPC_TIMEOUT`, `ERR_IPC_ABORTED` */
  accept(options?: WaitOptions): Promise<C>;
  /** Idempotent; settles in every order of closing: stops accepting, releases the address, closes what it accepted. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}
