import { constants } from "node:os";
import { IpcError, IpcErrorCode } from "@ipc/core";
import { describeShared, type Shareable } from "@ipc/core/transport";
import { ShmErrorCode } from "./errors.js";
import { availableMemoryBytes } from "./memory.js";
import { type NativeShm, nativeShm } from "./native.js";
import { describeByAddress, registerSegment } from "./shared-segments.js";

/** Mode of a segment this package creates unless `mode` says otherwise: owner only. */
export const DEFAULT_SEGMENT_MODE = 0o600;
/** Longest segment name in bytes, leading "/" excluded (NAME_MAX). */
export const MAX_SEGMENT_NAME_BYTES = 255;

/** Where a segment is: its name, or a descriptor received from its creator. */
export type SegmentAddress = string | { readonly fd: number };

/** When the creator of a named segment removes its name. */
export type UnlinkPolicy = "on-close" | "never";

/** Options for {@link createSegment}. */
export interface CreateSegmentOptions {
  /** A name in /dev/shm other processes open it by; omit it for an anonymous segment shared by descriptor (`segment.fd`). */
  name?: string | undefined;
  /** Permission bits of a named segment, applied exactly (whatever the umask). @default 0o600 */
  mode?: number | undefined;
  /** When the creator removes the name: as it closes, or never (then `unlinkSegment` is yours). @default "on-close" */
  unlink?: UnlinkPolicy | undefined;
}

/** Shared memory mapped into this process. `using` closes it. */
export interface Segment extends Disposable {
  /** The name other processes open it by ("/name"), or undefined for an anonymous segment. */
  readonly name: string | undefined;
  /** The descriptor of an anonymous segment, to hand to a child (`spawn(..., { stdio: [..., segment.fd] })`); undefined for a named one. Closed by `close()`. */
  readonly fd: number | undefined;
  /** Size in bytes. */
  readonly size: number;
  /** The memory: typed arrays over it are shared with every process that maps the segment; `Atomics` on them are atomic across processes. */
  readonly buffer: ArrayBuffer;
  /** True in the process that created it (the owner of its name). */
  readonly created: boolean;
  /** Unmaps it from this process (`buffer` is detached at once); the creator of a named segment also removes its name (`unlink`). Idempotent. */
  close(): void;
  /** Removes the name now (mappings keep working until closed); no new process can open it. */
  unlink(): void;
}

/**
 * Creates shared memory of `size` bytes, all reserved up front (a full /dev/shm fails here with
 * `ERR_IPC_SHM_NO_SPACE`, never later with SIGBUS). With `name`, exclusively, mode 0600, in /dev/shm;
 * without, anonymous (Linux `memfd_create`): it disappears with its last descriptor and mapping, even if
 * every process using it is killed.
 * @throws `ERR_IPC_SHM_NAME`, `ERR_IPC_SHM_EXISTS`, `ERR_IPC_SHM_NO_SPACE`, `ERR_IPC_SHM_PERMISSION`,
 * `ERR_IPC_INVALID_ARGUMENT`, `ERR_IPC_UNSUPPORTED` (anonymous, off Linux), `ERR_IPC_SHM_NATIVE_UNAVAILABLE`
 */
export function createSegment(size: number, options: CreateSegmentOptions = {}): Segment {
  checkSize(size);
  checkMemory(size, options.name);
  const unlink = options.unlink ?? "on-close";
  if (unlink !== "on-close" && unlink !== "never") {
    throw new IpcError(
      IpcErrorCode.INVALID_ARGUMENT,
      `unlink must be "on-close" or "never", got ${String(unlink)}`,
    );
  }
  return options.name === undefined
    ? createAnonymous(size)
    : createNamed(segmentName(options.name), size, options.mode ?? DEFAULT_SEGMENT_MODE, unlink);
}

/**
 * Opens an existing segment and maps all of it: by name (ours, or Python's
 * `multiprocessing.shared_memory`), or by a descriptor received from its creator (kept open as
 * `segment.fd` until `close()`, so it can be handed on).
 * @throws `ERR_IPC_SHM_NAME`, `ERR_IPC_SHM_NOT_FOUND`, `ERR_IPC_SHM_PERMISSION`, `ERR_IPC_INVALID_ARGUMENT`,
 * `ERR_IPC_SHM_NATIVE_UNAVAILABLE`
 */
export function openSegment(address: SegmentAddress): Segment {
  if (typeof address === "string") return openNamed(segmentName(address));
  if (
    typeof address === "object" &&
    address !== null &&
    Number.isSafeInteger(address.fd) &&
    address.fd >= 0
  ) {
    return openDescriptor(address.fd);
  }
  throw new IpcError(
    IpcErrorCode.INVALID_ARGUMENT,
    `a segment address is a name or { fd } with a non-negative descriptor, got ${describe(address)}`,
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
  if (
    typeof bare !== "string" ||
    bare.length === 0 ||
    bare === "." ||
    bare === ".." ||
    bare.includes("/") ||
    bare.includes("\0")
  ) {
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

function createNamed(path: string, size: number, mode: number, unlink: UnlinkPolicy): Segment {
  const native = nativeShm();
  const opened = native.open(path, native.O_CREAT | native.O_EXCL | native.O_RDWR, mode);
  if (opened.errno !== 0) throw shmError(opened.errno, "shm_open", path);
  const fd = opened.value;
  try {
    check(native.chmod(fd, mode), "fchmod", path);
    check(native.reserve(fd, size), "posix_fallocate", path, size);
    return mapSegment(native, { fd, name: path, size, created: true, unlinkOnClose: unlink === "on-close" });
  } catch (error) {
    native.close(fd);
    native.unlink(path);
    throw error;
  }
}

function createAnonymous(size: number): Segment {
  const native = nativeShm();
  const created = native.memfd("ipc-shm");
  if (created.errno !== 0) {
    if (created.errno === constants.errno.ENOSYS) {
      throw new IpcError(
        IpcErrorCode.UNSUPPORTED,
        "anonymous segments need Linux (memfd_create); give the segment a name elsewhere",
      );
    }
    throw shmError(created.errno, "memfd_create", ANONYMOUS);
  }
  const fd = created.value;
  try {
    check(native.reserve(fd, size), "posix_fallocate", ANONYMOUS, size);
    // No process it is handed to can shrink it under the others' mappings (SIGBUS).
    check(native.sealSize(fd), "fcntl(F_ADD_SEALS)", ANONYMOUS);
    return mapSegment(native, { fd, size, created: true, keepFd: true });
  } catch (error) {
    native.close(fd);
    throw error;
  }
}

function openNamed(path: string): Segment {
  const native = nativeShm();
  const opened = native.open(path, native.O_RDWR, 0);
  if (opened.errno !== 0) throw shmError(opened.errno, "shm_open", path);
  const fd = opened.value;
  try {
    const size = sizeOf(native, fd, path);
    return mapSegment(native, { fd, name: path, size, created: false });
  } catch (error) {
    native.close(fd);
    throw error;
  }
}

function openDescriptor(fd: number): Segment {
  const native = nativeShm();
  const size = sizeOf(native, fd, `descriptor ${fd}`);
  return mapSegment(native, { fd, size, created: false, keepFd: true });
}

function sizeOf(native: NativeShm, fd: number, what: string): number {
  const size = native.size(fd);
  check(size.errno, "fstat", what);
  if (size.value === 0) {
    throw new IpcError(
      IpcErrorCode.INVALID_ARGUMENT,
      `${what} has no memory behind it (size 0); its creator has not sized it yet`,
    );
  }
  return size.value;
}

/**
 * Refuses a size the machine cannot hold before anything is reserved: shared memory is real memory, and
 * reserving more than is available wakes the OOM killer for the whole machine (memfd has no tmpfs limit).
 */
function checkMemory(size: number, name: string | undefined): void {
  const available = availableMemoryBytes();
  if (available === undefined || size <= available) return;
  throw new IpcError(
    ShmErrorCode.NO_SPACE,
    `${size} bytes of shared memory${name === undefined ? "" : ` for ${name}`} is more than the ${available} bytes this machine (and this process's cgroup) has available; ask for less or free memory`,
    { errno: "ENOMEM" },
  );
}

function checkSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 1) {
    throw new IpcError(
      IpcErrorCode.INVALID_ARGUMENT,
      `a segment size must be a positive integer of bytes, got ${String(size)}`,
    );
  }
}

interface Mapping {
  fd: number;
  name?: string;
  size: number;
  created: boolean;
  /** Keep the descriptor (anonymous segments, to hand on); otherwise it is closed once mapped. */
  keepFd?: boolean;
  unlinkOnClose?: boolean;
}

const ANONYMOUS = "(anonymous segment)";

function mapSegment(native: NativeShm, mapping: Mapping): Segment {
  const { fd, name, size, created } = mapping;
  const label = name ?? ANONYMOUS;
  const mapped = native.map(fd, size);
  if (!mapping.keepFd) native.close(fd);
  if (!(mapped instanceof ArrayBuffer)) throw shmError(mapped.errno, "mmap", label);
  let open = true;
  let linked = name !== undefined && created;
  const unlink = () => {
    if (name === undefined) return;
    linked = false;
    check(native.unlink(name), "shm_unlink", name);
  };
  const segment: Segment & Shareable = {
    name,
    fd: mapping.keepFd ? fd : undefined,
    size,
    buffer: mapped,
    created,
    close() {
      if (!open) return;
      open = false;
      if (mapping.keepFd) native.close(fd);
      // The owner's name goes with its close; someone may have removed it already.
      if (linked && mapping.unlinkOnClose) native.unlink(name!);
      check(native.release(mapped), "mmap(PROT_NONE)", label);
    },
    unlink,
    [Symbol.dispose]() {
      segment.close();
    },
    [describeShared]() {
      return describeByAddress(segment, "segment");
    },
  };
  registerSegment(segment);
  return segment;
}

function check(errno: number, syscall: string, path: string, size?: number): void {
  if (errno !== 0) throw shmError(errno, syscall, path, size);
}

function describe(value: unknown): string {
  return typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
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
    case "ENOMEM":
      return new IpcError(
        ShmErrorCode.NO_SPACE,
        `not enough room for ${size ?? "the"} bytes of ${path}; free space in /dev/shm (or memory) or ask for less`,
        details,
      );
    case "EINVAL":
    case "ENAMETOOLONG":
      return new IpcError(ShmErrorCode.NAME, `the system refused the name ${path} (${code})`, details);
    default:
      return new IpcError(IpcErrorCode.SYSTEM, `${syscall} on ${path} failed with ${code}`, details);
  }
}
