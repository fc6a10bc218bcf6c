import { channelSegmentSize, checkRingCapacity, formatChannelSegment } from "./channel-segment.js";
import { Doorbell } from "./doorbell.js";
import type { SegmentAddress } from "./segment.js";
import { createFormatted, openFormatted } from "./segment-header.js";
import { type ShmChannel, ShmChannelEnd, type ShmChannelOptions } from "./shm-channel.js";

/** Bytes of ring per direction unless `capacity` says otherwise: 4 MiB (a 1 MiB message then goes in whole). */
export const DEFAULT_RING_CAPACITY_BYTES = 4 * 1024 * 1024;

/** Options of {@link createShmChannel}. */
export interface CreateShmChannelOptions<T> extends ShmChannelOptions<T> {
  /** A name in /dev/shm the peer opens with `openShmChannel(name)`; omit it for anonymous memory handed over by descriptor (`channel.fd`). */
  name?: string | undefined;
  /** Bytes of ring in each direction: a power of two from 4 KiB to 1 GiB. @default 4 MiB */
  capacity?: number | undefined;
  /** Permission bits of a named channel. @default 0o600 */
  mode?: number | undefined;
  /**
   * When the name is removed: as soon as the peer has attached (so a crash later leaves nothing in
   * /dev/shm), when this end closes, or never (then `unlinkSegment` is yours). @default "on-attach"
   */
  unlink?: "on-attach" | "on-close" | "never" | undefined;
}

/** Options of {@link openShmChannel}. */
export interface OpenShmChannelOptions<T> extends ShmChannelOptions<T> {}

/**
 * Creates a shared-memory channel and its first end. With `name`, the peer opens it by name; without,
 * it is anonymous memory (Linux) whose `fd` the peer receives in its stdio and opens with
 * `openShmChannel({ fd })`, so nothing can be left behind. Messages sent before the peer attaches wait in
 * the ring. @throws the errors of `createSegment`, `ERR_IPC_INVALID_ARGUMENT`
 */
export function createShmChannel<T = unknown>(options: CreateShmChannelOptions<T> = {}): ShmChannel<T> {
  const capacity = checkRingCapacity(options.capacity ?? DEFAULT_RING_CAPACITY_BYTES);
  const unlink = options.unlink ?? "on-attach";
  return createFormatted(channelSegmentSize(capacity), options, (segment) => {
    const { doorbell, address } = Doorbell.listen();
    formatChannelSegment(segment, capacity, address);
    let linked = segment.name !== undefined && unlink !== "never";
    const name = {
      unlink: () => {
        if (!linked) return;
        linked = false;
        try {
          segment.unlink();
        } catch {
          // Already removed by someone else: the goal is met.
        }
      },
      onAttach: unlink === "on-attach",
    };
    try {
      return new ShmChannelEnd<T>(segment, true, options, doorbell, name);
    } catch (error) {
      doorbell.close();
      throw error;
    }
  });
}

/**
 * Opens the second end of a channel made by {@link createShmChannel}, by name or by the descriptor its
 * creator handed over.
 * @throws `ERR_IPC_SHM_NOT_FOUND`, `ERR_IPC_SHM_PERMISSION`, `ERR_IPC_PROTOCOL` (not a channel),
 * `ERR_IPC_SHM_CHANNEL_IN_USE` (both ends taken)
 */
export function openShmChannel<T = unknown>(
  address: SegmentAddress,
  options: OpenShmChannelOptions<T> = {},
): ShmChannel<T> {
  return openFormatted(address, (segment) => new ShmChannelEnd<T>(segment, false, options));
}
