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
 * iteration come from `receiver`. The conversation ends with either half: when one closes (or fails),
 * the other is closed too, and `closed` settles with the story of the half that ended first.
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
    let first: CloseInfo | undefined;
    const endsWith = (half: Receiver<T> | Sender<T>, other: Receiver<T> | Sender<T>) =>
      half.closed.then(async (info) => {
        first ??= info;
        // A half that already ended keeps what it buffered: closing it locally would drop that.
        if (other.state === "open") await other.close();
      });
    void Promise.all([endsWith(receiver, sender), endsWith(sender, receiver)]).then(() => this.ended(first!));
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

  protected async closeEnd(options: CloseOptions): Promise<void> {
    await Promise.all([this.#sender.close(options), this.#receiver.close(options)]);
  }
}
