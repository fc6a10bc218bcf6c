import { type Codec, IpcError, IpcErrorCode, type WaitOptions } from "@ipc/core";
import type { SegmentAddress, UnlinkPolicy } from "@ipc/shm";
import { createFormatted, openFormatted } from "@ipc/shm/structure";
import { QueueEngine } from "./engine.js";
import { JoinableQueue } from "./joinable-queue.js";
import {
  checkShape,
  DEFAULT_SLOT_COUNT,
  formatQueueSegment,
  type QueueShape,
  queueSegmentSize,
  readQueueShape,
} from "./layout.js";
import { checkSpin, codecOf, Queue, type QueueOptions } from "./queue.js";

/** Options of `createQueue`, `createJoinableQueue` and `createSimpleQueue`. */
export interface CreateQueueOptions<T> extends QueueOptions<T> {
  /** Most items held at once (Python's `maxsize`); 0: no limit but `capacity`. @default 0 */
  maxsize?: number | undefined;
  /** Bytes of the queue's ring, a power of two from 4 KiB to 1 GiB; reserved at creation. @default 4 MiB */
  capacity?: number | undefined;
  /** Deliveries of one item (leases that end without an ack) before it becomes a dead letter. @default 5 */
  maxDeliveries?: number | undefined;
  /** A name in /dev/shm other processes open it by; omit it for an anonymous queue handed to children. */
  name?: string | undefined;
  /** Permission bits of a named queue. @default 0o600 */
  mode?: number | undefined;
  /** When the creator removes the name: as it closes, or never (then `unlinkSegment` is yours). @default "on-close" */
  unlink?: UnlinkPolicy | undefined;
}

/** Options of `openQueue` and `openJoinableQueue`. */
export interface OpenQueueOptions<T> extends QueueOptions<T> {}

/**
 * Python's `multiprocessing.SimpleQueue`: put, get, empty, close; no size limit but the capacity.
 */
export interface SimpleQueue<T = unknown> extends AsyncIterable<T>, AsyncDisposable {
  readonly name: string | undefined;
  readonly fd: number | undefined;
  put(item: T, options?: WaitOptions): Promise<void>;
  get(options?: WaitOptions): Promise<T>;
  empty(): boolean;
  close(): Promise<void>;
}

/**
 * Creates a queue (Python's `multiprocessing.Queue(maxsize)`). With `name`, other processes open it with
 * `openQueue(name)`; without, it is anonymous (Linux) and reaches children as a `Process` argument.
 * @throws `ERR_IPC_INVALID_ARGUMENT` (a bad maxsize, capacity or maxDeliveries), the errors of `createSegment`
 */
export function createQueue<T = unknown>(options: CreateQueueOptions<T> = {}): Queue<T> {
  return create(options, false, (parts) => new Queue<T>(parts));
}

/** Creates a queue with `taskDone()` and `join()` (Python's `multiprocessing.JoinableQueue`). */
export function createJoinableQueue<T = unknown>(options: CreateQueueOptions<T> = {}): JoinableQueue<T> {
  return create(options, true, (parts) => new JoinableQueue<T>(parts));
}

/** Creates a queue with only `put`, `get`, `empty` and `close` (Python's `multiprocessing.SimpleQueue`). */
export function createSimpleQueue<T = unknown>(
  options: Omit<CreateQueueOptions<T>, "maxsize" | "maxDeliveries"> = {},
): SimpleQueue<T> {
  return create({ ...options, maxsize: 0 }, false, (parts) => new Queue<T>(parts));
}

/**
 * Opens a queue made by `createQueue` or `createJoinableQueue`, by name or by a descriptor received from
 * its creator. A joinable queue opens as a {@link JoinableQueue}.
 * @throws `ERR_IPC_SHM_NOT_FOUND`, `ERR_IPC_SHM_PERMISSION`, `ERR_IPC_PROTOCOL` (not a queue)
 */
export function openQueue<T = unknown>(address: SegmentAddress, options: OpenQueueOptions<T> = {}): Queue<T> {
  return open(address, options, (parts, shape) =>
    shape.joinable ? new JoinableQueue<T>(parts) : new Queue<T>(parts),
  );
}

/** Opens a joinable queue. @throws `ERR_IPC_PROTOCOL` also when the queue is not joinable */
export function openJoinableQueue<T = unknown>(
  address: SegmentAddress,
  options: OpenQueueOptions<T> = {},
): JoinableQueue<T> {
  return open(address, options, (parts, shape) => {
    if (!shape.joinable) {
      throw new IpcError(
        IpcErrorCode.PROTOCOL,
        "this queue was not created by createJoinableQueue; open it with openQueue",
      );
    }
    return new JoinableQueue<T>(parts);
  });
}

interface Parts<T> {
  readonly engine: QueueEngine;
  readonly codec: Codec<T>;
  readonly release: () => void;
}

function create<T, Q>(options: CreateQueueOptions<T>, joinable: boolean, build: (parts: Parts<T>) => Q): Q {
  const checked = checkShape(options);
  const spin = checkSpin(options.spin);
  const shape: QueueShape = { ...checked, joinable, slotCount: DEFAULT_SLOT_COUNT };
  const unlink = options.unlink ?? "on-close";
  if (unlink !== "on-close" && unlink !== "never") {
    throw new IpcError(
      IpcErrorCode.INVALID_ARGUMENT,
      `unlink must be "on-close" or "never", got ${String(unlink)}`,
    );
  }
  return createFormatted(queueSegmentSize(shape.capacity), options, (segment) => {
    formatQueueSegment(segment, shape);
    const owned = segment.name !== undefined && unlink === "on-close";
    const release = () => {
      if (!owned) return;
      try {
        segment.unlink();
      } catch {
        // Removed by someone else already: the goal is met.
      }
    };
    return build({ engine: new QueueEngine(segment, shape, spin), codec: codecOf(options), release });
  });
}

function open<T, Q>(
  address: SegmentAddress,
  options: OpenQueueOptions<T>,
  build: (parts: Parts<T>, shape: QueueShape) => Q,
): Q {
  const spin = checkSpin(options.spin);
  return openFormatted(address, (segment) => {
    const shape = readQueueShape(segment);
    return build(
      { engine: new QueueEngine(segment, shape, spin), codec: codecOf(options), release: () => {} },
      shape,
    );
  });
}
