import { constants } from "node:os";
import { IpcError, IpcErrorCode } from "@ipc/core";
import { ShmErrorCode } from "./errors.js";
import { type NativeShm, nativeShm } from "./native.js";

/** Mode of a segment this package creates unless `mode` says otherwise: owner only. */
export const DEFAULT_SEGMENT_MODE = 0o600;
/** Longest segment name in bytes, leading "/" excluded (NAME_MAX). */
export const MAX_SEGMENT_NAME_BYTES = 255;

/** Options for {@link createSegment}. */
export interface CreateSegmentOptions {
  /** Permission bits, applied exactly (whatever the umask). @default 0o600 */
  mode?: number;
}

/** A POSIX shared-memory segment mapped into this process. `using` closes it. */
export interface Segment extends Disposable {
  /** The name, as other processes open it ("/name"). */
  readonly name: string;
  /** Size in bytes. */
  readonly size: number;
  /** The memory: typed arrays over it are shared with every process that maps the segment; `Atomics` on them are atomic across processes. */
  readonly buffer: ArrayBuffer;
  /** True for the process that created it (the one expected to unlink it). */
  readonly created: boolean;
  /** Unmaps it from this process; `buffer` is detached at once. Idempotent. */
  close(): void;
  /** Removes the name (mappings keep working until closed); no new process can open it. */
  unlink(): void;
}

/**
 * Creates a segment, exclusively, with `mode` (0600), its whole size reserved up front (a full
 * /dev/shm fails here with ERR_IPC_SHM_NO_SPACE, never later with SIGBUS).
 * @throws `ERR_IPC_SHM_NAME`, `ERR_IPC_SHM_EXISTS`, `ERR_IPC_SHM_NO_SPACE`, `ERR_IPC_SHM_PERMISSION`,
 * `ERR_IPC_INVALID_ARGUMENT`, `ERR_IPC_SHM_NATIVE_UNAVAILABLE`
 */
export function createSegment(name: string, size: number, options: CreateSegmentOptions = {}): Segment {
  const path = segmentName(name);
  checkSize(size);
  const mode = options.mode ?? DEFAULT_SEGMENT_MODE;
  const native = nativeShm();
  const opened = native.open(path, native.O_CREAT | native.O_EXCL | native.O_RDWR, mode);
  if (opened.errno !== 0) throw shmError(opened.errno, "shm_open", path);
  const fd = opened.value;
  try {
    check(native.chmod(fd, mode), "fchmod", path);
    check(native.reserve(fd, size), "posix_fallocate", path, size);
    return mapSegment(native, fd, path, size, true);
  } catch (error) {
    native.close(fd);
    native.unlink(path);
    throw error;
  }
}

/**
 * Opens an existing segment by name (ours, or Python's `multiprocessing.shared_memory`) and maps all of it.
 * @throws `ERR_IPC_SHM_NAME`, `ERR_IPC_SHM_NOT_FOUND`, `ERR_IPC_SHM_PERMISSION`, `ERR_IPC_SHM_NATIVE_UNAVAILABLE`
 */
export function openSegment(name: string): Segment {
  const path = segmentName(name);
  const native = nativeShm();
  const opened = native.open(path, native.O_RDWR, 0);
  if (opened.errno !== 0) throw shmError(opened.errno, "shm_open", path);
  const fd = opened.value;
  try {
    const size = native.size(fd);
    check(size.errno, "fstat", path);
    if (size.value === 0)
      throw new IpcError(
        IpcErrorCode.INVALID_ARGUMENT,
        `${path} has size 0; its creator has not sized it yet`,
      );
    return mapSegment(native, fd, path, size.value, false);
  } catch (error) {
    native.close(fd);
    throw error;
  }
}

/** An anonymous segment: no name anywhere, so nothing can be left behind; share it by passing `fd`. */
export interface AnonymousSegment extends Segment {
  /** The descriptor to hand to a child (`spawn(..., { stdio: [..., segment.fd] })`); closed by `close()`. */
  readonly fd: number;
}

/**
 * Creates shared memory with no name (Linux `memfd_create`): it disappears with its last descriptor and
 * mapping, even if every process using it is killed. A child gets it through its stdio, then calls
 * {@link openSegmentFd}. @throws `ERR_IPC_UNSUPPORTED` off Linux, `ERR_IPC_SHM_NO_SPACE`, `ERR_IPC_INVALID_ARGUMENT`
 */
export function createAnonymousSegment(size: number): AnonymousSegment {
  checkSize(size);
  const native = nativeShm();
  const created = native.memfd("ipc-shm");
  if (created.errno !== 0) {
    if (created.errno === constants.errno.ENOSYS) {
      throw new IpcError(
        IpcErrorCode.UNSUPPORTED,
        "anonymous segments need Linux (memfd_create); use createSegment with a name elsewhere",
      );
    }
    throw shmError(created.errno, "memfd_create", "(anonymous)");
  }
  const fd = created.value;
  try {
    check(native.reserve(fd, size), "posix_fallocate", "(anonymous)", size);
    return { ...mapSegment(native, fd, "(anonymous)", size, true, true), fd } as AnonymousSegment;
  } catch (error) {
    native.close(fd);
    throw error;
  }
}

/**
 * Maps the shared memory behind descriptor `fd` (an anonymous segment a parent passed in stdio, or any
 * shared-memory descriptor). The descriptor is closed once mapped.
 * @throws `ERR_IPC_INVALID_ARGUMENT`, `ERR_IPC_SYSTEM`
 */
export function openSegmentFd(fd: number): Segment {
  if (!Number.isSafeInteger(fd) || fd < 0) {
    throw new IpcError(
      IpcErrorCode.INVALID_ARGUMENT,
      `a descriptor must be a non-negative integer, got ${String(fd)}`,
    );
  }
  const native = nativeShm();
  const size = native.size(fd);
  check(size.errno, "fstat", `fd ${fd}`);
  if (size.value === 0)
    throw new IpcError(IpcErrorCode.INVALID_ARGUMENT, `descriptor ${fd} has no memory behind it (size 0)`);
  return mapSegment(native, fd, `fd ${fd}`, size.value, false);
}

/** Where a segment is: its name, or a descriptor received from its creator. */
export type SegmentAddress = string | { readonly fd: number };

/** Opens a segment by name ({@link openSegment}) or descriptor ({@link openSegmentFd}). */
export function openSegmentAt(address: SegmentAddress, what: string): Segment {
  if (typeof address === "string") return openSegment(address);
  if (typeof address === "object" && address !== null) return openSegmentFd(address.fd);
  throw new IpcError(
    IpcErrorCode.INVALID_ARGUMENT,
    `${what} takes a segment name or { fd }, got ${String(address)}`,
  );
}

/** Removes a segment's name. @throws `ERR_IPC_SHM_NOT_FOUND`, `ERR_IPC_SHM_PERMISSION`, `ERR_IPC_SHM_NAME` */
export function unlinkSegment(name: string): void {
  const path = segmentName(name);
  check(nativeShm().unlink(path), "shm_unlink", path);
}

/** The "/name" form of a segment name. @throws `ERR_IPC_SHM_NAME` */
export function segmentName(name: string): string {
  const bare = typeof name === "string" && name.startsWith("/") ? name.slice(1) : name;
  if (typeof bare !== "string" || bare.length === 0 || bare.includes("/") || bare.includes("\0")) {
    throw new IpcError(
      ShmErrorCode.NAME,
      `${JSON.stringify(name)} is not a shared-memory name: use one word without "/" (an optional leading "/" is allowed), such as "app-counters"`,
    );
  }
  if (Buffer.byteLength(bare) > MAX_SEGMENT_NAME_BYTES) {
    throw new IpcError(
      ShmErrorCode.NAME,
      `the name "${bare.slice(0, 20)}..." is ${Buffer.byteLength(bare)} bytes; the limit is ${MAX_SEGMENT_NAME_BYTES}`,
    );
  }
  return `/${bare}`;
}

function checkSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 1) {
    throw new IpcError(
      IpcErrorCode.INVALID_ARGUMENT,
      `a segment size must be a positive integer of bytes, got ${String(size)}`,
    );
  }
}

function mapSegment(
  native: NativeShm,
  fd: number,
  name: string,
  size: number,
  created: boolean,
  keepFd = false,
): Segment {
  const mapped = native.map(fd, size);
  // The mapping keeps the memory; the descriptor is only kept to be handed on.
  if (!keepFd) native.close(fd);
  if (!(mapped instanceof ArrayBuffer)) throw shmError(mapped.errno, "mmap", name);
  let open = true;
  const segment: Segment = {
    name,
    size,
    buffer: mapped,
    created,
    close() {
      if (!open) return;
      open = false;
      if (keepFd) native.close(fd);
      check(native.release(mapped), "mmap(PROT_NONE)", name);
    },
    unlink() {
      check(native.unlink(name), "shm_unlink", name);
    },
    [Symbol.dispose]() {
      segment.close();
    },
  };
  return segment;
}

function check(errno: number, syscall: string, path: string, size?: number): void {
  if (errno !== 0) throw shmError(errno, syscall, path, size);
}

// Symbolic names ("ENOSPC") for the numbers the addon returns, from this platform's own table.
const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, number]) => [number, name]));

function shmError(errno: number, syscall: string, path: string, size?: number): IpcError {
  const code = ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
  const details = { errno: code, syscall, path };
  switch (code) {
    case "EEXIST":
      return new IpcError(
        ShmErrorCode.EXISTS,
        `a shared-memory segment named ${path} already exists; open it with openSegment, or unlink it first`,
        details,
      );
    case "ENOENT":
      return new IpcError(ShmErrorCode.NOT_FOUND, `no shared-memory segment is named ${path}`, details);
    case "EACCES":
    case "EPERM":
      return new IpcError(
        ShmErrorCode.PERMISSION,
        `permission denied on ${path}: segments are private to their owner by default (mode 0600)`,
        details,
      );
    case "ENOSPC":
    case "EFBIG":
      return new IpcError(
        ShmErrorCode.NO_SPACE,
        `not enough room in /dev/shm for ${size ?? "the"} bytes of ${path}; free space there or ask for less`,
        details,
      );
    case "EINVAL":
    case "ENAMETOOLONG":
      return new IpcError(ShmErrorCode.NAME, `the system refused the name ${path} (${code})`, details);
    default:
      return new IpcError(IpcErrorCode.SYSTEM, `${syscall} on ${path} failed with ${code}`, details);
  }
}
