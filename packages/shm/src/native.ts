import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { IpcError } from "@ipc/core";
import { ShmErrorCode } from "./errors.js";

/** What the C++ addon offers: one system call each, errno in the result. */
export interface NativeShm {
  open(name: string, flags: number, mode: number): { errno: number; value: number };
  chmod(fd: number, mode: number): number;
  reserve(fd: number, size: number): number;
  size(fd: number): { errno: number; value: number };
  map(fd: number, size: number): ArrayBuffer | { errno: number; value: number };
  release(buffer: ArrayBuffer): number;
  memfd(name: string): { errno: number; value: number };
  /** Seals a memfd against shrinking, for good. */
  sealSize(fd: number): number;
  close(fd: number): number;
  unlink(name: string): number;
  /** Blocks this thread on a word: 0 woken, EAGAIN not `expected`, ETIMEDOUT, EINVAL. */
  wait(buffer: ArrayBuffer, byteOffset: number, expected: number, timeoutMs: number): number;
  /** Wakes up to `count` waiters on a word; the number woken, or a negative errno. */
  wake(buffer: ArrayBuffer, byteOffset: number, count: number): number;
  /** Receives the result of every async wait. */
  setWaitCallback(callback: (id: number, result: number) => void): void;
  /** Starts a wait on a waiter thread of the addon: 0 started, EINVAL. */
  waitAsync(buffer: ArrayBuffer, byteOffset: number, expected: number, timeoutMs: number, id: number): number;
  /** Ends an async wait soon with ECANCELED. */
  cancelWait(id: number): void;
  readonly O_CREAT: number;
  readonly O_EXCL: number;
  readonly O_RDWR: number;
}

let loaded: NativeShm | undefined;
let loadedFrom: string | undefined;

/** Path of the addon binary in use, once loaded. */
export function nativeShmPath(): string | undefined {
  return loadedFrom;
}

/**
 * The addon: the prebuilt binary for this platform if the package ships one and it loads, else the one
 * built at install. @throws `ERR_IPC_SHM_NATIVE_UNAVAILABLE` listing every path tried and why it failed
 */
export function nativeShm(): NativeShm {
  if (loaded) return loaded;
  // src/ and dist/ both sit one level below the package root.
  const here = typeof __dirname === "string" ? __dirname : dirname(fileURLToPath(import.meta.url));
  const root = join(here, "..");
  const prebuilt = join(root, "prebuilds", `${process.platform}-${process.arch}`, "ipc_shm.node");
  const built = join(root, "build", "Release", "ipc_shm.node");
  // IPC_SHM_PREFER_BUILD=1 tries a locally built binary first (to test or debug a source build).
  const candidates = process.env.IPC_SHM_PREFER_BUILD ? [built, prebuilt] : [prebuilt, built];
  const requireHere = createRequire(join(root, "package.json"));
  const tried: string[] = [];
  for (const path of candidates) {
    if (!existsSync(path)) {
      tried.push(`${path}: not there`);
      continue;
    }
    try {
      loaded = requireHere(path) as NativeShm;
      loadedFrom = path;
      return loaded;
    } catch (error) {
      tried.push(`${path}: ${(error as Error).message}`);
    }
  }
  throw new IpcError(
    ShmErrorCode.NATIVE_UNAVAILABLE,
    `the @ipc/shm native addon is not available for ${process.platform}-${process.arch} on Node ${process.version}. Tried:\n  ${tried.join("\n  ")}\nRebuild it with "npm rebuild @ipc/shm" (needs python3, make and a C++ compiler).`,
  );
}
