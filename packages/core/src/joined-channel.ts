import type {
  Channel,
  ChannelState,
  CloseInfo,
  CloseOptions,
  ReceiveOptions,
  Receiver,
  Sender,
  SendOptions,
} from "./channel.js";

/**
 * One duplex channel from two one-way ends (two FIFOs, two pipes): `send` goes to `sender`, `receive` and
 * iteration come from `receiver`. The conversation ends with either half: when one closes (or fails),
 * the other is closed too, and `closed` settles with the story of the half that ended first.
 */
export function joinChannels<T>(receiver: Receiver<T>, sender: Sender<T>): Channel<T> {
  let first: CloseInfo | undefined;
  const endsWith = (half: Receiver<T> | Sender<T>, other: Receiver<T> | Sender<T>) =>
    half.closed.then(async (info) => {
      first ??= info;
      // A half that already ended keeps what it buffered: closing it locally would drop that.
      if (other.state === "open") await other.close();
    });
  const closed: Promise<CloseInfo> = Promise.all([
    endsWith(receiver, sender),
    endsWith(sender, receiver),
  ]).then(() => first!);
  return {
    get state(): ChannelState {
      if (receiver.state === "closed" && sender.state === "closed") return "closed";
      return receiver.state === "open" && sender.state === "open" ? "open" : "closing";
    },
    closed,
    send: (message: T, options?: SendOptions) => sender.send(message, options),
    receive: (options?: ReceiveOptions) => receiver.receive(options),
    [Symbol.asyncIterator]: () => receiver[Symbol.asyncIterator](),
    async close(options?: CloseOptions) {
      await Promise.all([sender.close(options), receiver.close(options)]);
    },
    [Symbol.asyncDispose]() {
      return this.close();
    },
  };
}
