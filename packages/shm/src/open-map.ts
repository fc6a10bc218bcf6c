import { formatSharedMap, type SharedMapShape, sharedMapSize } from "./map-format.js";
import type { SegmentAddress, UnlinkPolicy } from "./segment.js";
import { createFormatted, openFormatted } from "./segment-header.js";
import { type SharedMap, type SharedMapOptions, SharedMapStore } from "./shared-map.js";

/** Options of {@link createSharedMap}. */
export interface CreateSharedMapOptions<V> extends SharedMapOptions<V>, SharedMapShape {
  /** A name in /dev/shm other processes open it by; omit it for an anonymous map handed over by descriptor (`map.fd`). */
  name?: string | undefined;
  /** Permission bits of a named map. @default 0o600 */
  mode?: number | undefined;
  /** When the creator removes the name: as it closes, or never (then `unlinkSegment` is yours). @default "on-close" */
  unlink?: UnlinkPolicy | undefined;
}

/** Options of {@link openSharedMap}. */
export interface OpenSharedMapOptions<V> extends SharedMapOptions<V> {}

/**
 * Creates an empty shared map. With `name`, other processes (cluster workers, say) open it with
 * `openSharedMap(name)` until the creator closes it (which removes the name, unless `unlink: "never"`);
 * without, it is anonymous (Linux) and children get `map.fd` in their stdio.
 * @throws the errors of `createSegment`, `ERR_IPC_INVALID_ARGUMENT` for a bad shape
 */
export function createSharedMap<V = unknown>(options: CreateSharedMapOptions<V> = {}): SharedMap<V> {
  return createFormatted(sharedMapSize(options), options, (segment) => {
    formatSharedMap(segment, options);
    const owned = segment.name !== undefined && options.unlink !== "never";
    return new SharedMapStore<V>(segment, options, () => {
      if (!owned) return;
      try {
        segment.unlink();
      } catch {
        // Already removed by someone else: the goal is met.
      }
    });
  });
}

/**
 * Opens a map made by {@link createSharedMap}, by name or by a descriptor received from its creator.
 * @throws `ERR_IPC_SHM_NOT_FOUND`, `ERR_IPC_SHM_PERMISSION`, `ERR_IPC_PROTOCOL` (not a map)
 */
export function openSharedMap<V = unknown>(
  address: SegmentAddress,
  options: OpenSharedMapOptions<V> = {},
): SharedMap<V> {
  return openFormatted(address, (segment) => new SharedMapStore<V>(segment, options));
}
