import { createAnonymousSegment, createSegment, openSegmentAt, type SegmentAddress } from "./segment.js";
import {
  channelSegmentSize,
  checkRingCapacity,
  DEFAULT_RING_CAPACITY_BYTES,
  formatChannelSegment,
  ShmChannel,
  type ShmChannelOptions,
} from "./shm-channel.js";

/** Options of {@link createShmChannel}. */
export interface CreateShmChannelOptions<T> extends ShmChannelOptions<T> {
  /** A name in /dev/shm the peer opens with `openShmChannel(name)`; omit it for an anonymous segment handed over by descriptor (`channel.fd`). */
  name?: string;
  /** Bytes of ring in each direction: a power of two from 4 KiB to 1 GiB. @default 1 MiB */
  capacity?: number;
  /** Permission bits of a named segment. @default 0o600 */
  mode?: number;
  /** Remove the name as soon as the peer attaches, so a crash later leaves nothing in /dev/shm (it is removed at close either way). @default true */
  unlinkOnAttach?: boolean;
}

/**
 * Creates a shared-memory channel and its first end. With `name`, the peer opens it by name; without,
 * it is an anonymous segment (Linux) whose `fd` the peer receives in its stdio and opens with
 * `openShmChannel({ fd })`, so nothing can be left behind. Messages sent before the peer attaches wait in
 * the ring. @throws the errors of `createSegment` / `createAnonymousSegment`, `ERR_IPC_INVALID_ARGUMENT`
 */
export function createShmChannel<T = unknown>(options: CreateShmChannelOptions<T> = {}): ShmChannel<T> {
  const capacity = checkRingCapacity(options.capacity ?? DEFAULT_RING_CAPACITY_BYTES);
  const size = channelSegmentSize(capacity);
  const { name } = options;
  const segment =
    name === undefined ? createAnonymousSegment(size) : createSegment(name, size, { mode: options.mode });
  let linked = name !== undefined;
  const releaseName = () => {
    if (!linked) return;
    linked = false;
    try {
      segment.unlink();
    } catch {
      // Already removed by someone else: the goal is met.
    }
  };
  try {
    formatChannelSegment(segment, capacity);
    return new ShmChannel<T>(segment, true, options, releaseName, options.unlinkOnAttach !== false);
  } catch (error) {
    releaseName();
    segment.close();
    throw error;
  }
}

/**
 * Opens the second end of a channel made by {@link createShmChannel}.
 * @throws `ERR_IPC_SHM_NOT_FOUND`, `ERR_IPC_SHM_PERMISSION`, `ERR_IPC_PROTOCOL` (not a channel),
 * `ERR_IPC_SHM_CHANNEL_IN_USE` (both ends taken)
 */
export function openShmChannel<T = unknown>(
  address: SegmentAddress,
  options: ShmChannelOptions<T> = {},
): ShmChannel<T> {
  const segment = openSegmentAt(address, "openShmChannel");
  try {
    return new ShmChannel<T>(segment, false, options);
  } catch (error) {
    segment.close();
    throw error;
  }
}
