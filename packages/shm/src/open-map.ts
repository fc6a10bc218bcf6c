import { createAnonymousSegment, createSegment, openSegmentAt, type SegmentAddress } from "./segment.js";
import {
  formatSharedMap,
  SharedMap,
  type SharedMapOptions,
  type SharedMapShape,
  sharedMapSize,
} from "./shared-map.js";

/** Options of {@link createSharedMap}. */
export interface CreateSharedMapOptions<V> extends SharedMapOptions<V>, SharedMapShape {
  /** A name in /dev/shm other processes open it by; omit it for an anonymous map handed over by descriptor (`map.fd`). */
  name?: string;
  /** Permission bits of a named map. @default 0o600 */
  mode?: number;
}

/**
 * Creates an empty shared map. With `name`, other processes (cluster workers, say) open it with
 * `openSharedMap(name)` and the creator removes the name when done (`map.segment.unlink()`); without, it is
 * anonymous (Linux) and children get `map.fd` in their stdio. @throws the errors of `createSegment`,
 * `ERR_IPC_INVALID_ARGUMENT` for a bad shape
 */
export function createSharedMap<V = unknown>(options: CreateSharedMapOptions<V> = {}): SharedMap<V> {
  const size = sharedMapSize(options);
  const segment =
    options.name === undefined
      ? createAnonymousSegment(size)
      : createSegment(options.name, size, { mode: options.mode });
  try {
    formatSharedMap(segment.buffer, options);
    return new SharedMap<V>(segment, options);
  } catch (error) {
    if (options.name !== undefined) segment.unlink();
    segment.close();
    throw error;
  }
}

/**
 * Opens a map made by {@link createSharedMap}, by name or by a descriptor received from its creator.
 * @throws `ERR_IPC_SHM_NOT_FOUND`, `ERR_IPC_SHM_PERMISSION`, `ERR_IPC_PROTOCOL` (not a map)
 */
export function openSharedMap<V = unknown>(
  address: SegmentAddress,
  options: SharedMapOptions<V> = {},
): SharedMap<V> {
  const segment = openSegmentAt(address, "openSharedMap");
  try {
    return new SharedMap<V>(segment, options);
  } catch (error) {
    segment.close();
    throw error;
  }
}
