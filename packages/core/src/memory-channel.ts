import { BaseChannel, type BaseChannelOptions } from "./base-channel.js";
import type { Channel } from "./channel.js";
import type { IpcError } from "./errors.js";
import { checkFrameSize } from "./framing.js";

/** Options for {@link createMemoryChannelPair}. */
export interface CreateMemoryChannelPairOptions<T> extends Omit<BaseChannelOptions<T>, "direction"> {}

/**
 * Two connected in-process channel ends, `[a, b]` (`secondOptions` configure `b`; by default as `a`): the
 * reference implementation of the contract, used to test the conformance suite itself and handy in unit
 * tests. Messages are encoded and decoded exactly as on a real transport, and a slow reader holds back
 * the sender once `receiveHighWaterMark` bytes wait for it.
 */
export function createMemoryChannelPair<T = unknown>(
  options: CreateMemoryChannelPairOptions<T> = {},
  secondOptions: CreateMemoryChannelPairOptions<T> = options,
): [Channel<T>, Channel<T>] {
  const a = new MemoryChannel<T>(options);
  const b = new MemoryChannel<T>(secondOptions);
  a.connect(b);
  b.connect(a);
  return [a, b];
}

class MemoryChannel<T> extends BaseChannel<T> {
  #peer: MemoryChannel<T> | undefined;

  connect(peer: MemoryChannel<T>): void {
    this.#peer = peer;
    peer.inbox.onSpace = () => this.gate.notify();
  }

  protected hasRoom(): boolean {
    return this.#peer !== undefined && !this.#peer.inbox.full;
  }

  protected writeFrame(payload: Uint8Array): void {
    // The sender may reuse borrowed bytes once send resolves, as on a real transport.
    this.#peer?.deliver(this.codec.borrowsInput ? payload.slice() : payload);
  }

  /** A frame from the peer; one over this end's `maxFrameSize` ends the channel, as a real transport's would. */
  deliver(payload: Uint8Array): void {
    try {
      checkFrameSize(payload.byteLength, this.maxFrameSize, "the peer sent");
    } catch (error) {
      this.failed(error as IpcError);
      this.#peer?.peerEnded();
      return;
    }
    this.receiveFrame(payload);
  }

  protected async flushFrames(): Promise<void> {
    // Every frame was handed to the peer's inbox when its send resolved.
  }

  protected async shutdown(): Promise<void> {
    const peer = this.#peer;
    this.#peer = undefined;
    peer?.peerEnded();
  }
}
