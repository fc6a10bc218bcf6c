import type {
  Channel,
  CloseInfo,
  CloseOptions,
  FlushOptions,
  ReceiveOptions,
  Receiver,
  Sender,
  SendOptions,
} from "./channel.js";
import { ClosableEnd } from "./closable-end.js";
import { receiveIterator } from "./receive-iterator.js";

/**
 * One duplex channel from two one-way ends (two FIFOs, two pipes): `send` goes to `sender`, `receive` and
 * iteration come from `receiver`. When the receiving half ends, the sending half is closed too (after
 * flushing); when the sending half fails, sends fail while messages still arriving can be received.
 * `closed` settles once both halves are closed, with the receiving half's story when it ended by itself
 * (it alone can tell a clean end from a cut one), else the sending half's.
 */
export function joinChannels<T>(receiver: Receiver<T>, sender: Sender<T>): Channel<T> {
  return new JoinedChannel(receiver, sender);
}

class JoinedChannel<T> extends ClosableEnd implements Channel<T> {
  readonly #receiver: Receiver<T>;
  readonly #sender: Sender<T>;

  constructor(receiver: Receiver<T>, sender: Sender<T>) {
    super();
    this.#receiver = receiver;
    this.#sender = sender;
    const story: { received?: CloseInfo; sent?: CloseInfo } = {};
    const receiving = receiver.closed.then(async (info) => {
      story.received = info;
      // A half that already ended keeps what it buffered: closing it locally would drop that.
      if (sender.state === "open") await sender.close();
    });
    const sending = sender.closed.then((info) => {
      story.sent = info;
    });
    void Promise.all([receiving, sending]).then(() => {
      const { received, sent } = story as Required<typeof story>;
      this.ended(received.initiator !== "local" ? received : sent);
    });
  }

  send(message: T, options?: SendOptions): Promise<void> {
    if (this.closedLocally) return Promise.reject(this.closedError("send"));
    return this.#sender.send(message, options);
  }

  flush(options?: FlushOptions): Promise<void> {
    if (this.closedLocally) return Promise.reject(this.closedError("flush"));
    return this.#sender.flush(options);
  }

  receive(options?: ReceiveOptions): Promise<T> {
    if (this.closedLocally) return Promise.reject(this.closedError("receive"));
    return this.#receiver.receive(options);
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return receiveIterator(() => this.receive());
  }

  protected override keepAliveChanged(): void {
    for (const half of [this.#receiver, this.#sender]) {
      if (this.referenced) half.ref();
      else half.unref();
    }
  }

  protected async closeEnd(options: CloseOptions): Promise<void> {
    await Promise.all([this.#sender.close(options), this.#receiver.close(options)]);
  }
}
