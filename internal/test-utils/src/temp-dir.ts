import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Every temp directory of this process starts with this prefix, so the leak check can find strays. */
export const TEMP_DIR_PREFIX = `ipc-test-${process.pid}-`;

const created = new Set<string>();

/** A fresh, private (0700) directory under the OS temp dir; removed by {@link removeTempDirs}. */
export function createTempDir(): string {
  const path = mkdtempSync(join(tmpdir(), TEMP_DIR_PREFIX));
  created.add(path);
  return path;
}

/** Removes every directory {@link createTempDir} made. */
export function removeTempDirs(): void {
  for (const path of created) rmSync(path, { recursive: true, force: true });
  created.clear();
}

/** Temp directories of this process that still exist. */
export function leftoverTempDirs(): string[] {
  return readdirSync(tmpdir())
    .filter((name) => name.startsWith(TEMP_DIR_PREFIX))
    .map((name) => join(tmpdir(), name));
}

/** Shared-memory segments named with this process's prefix that are still in /dev/shm (Linux). */
export function leftoverSharedMemory(): string[] {
  try {
    return readdirSync("/dev/shm").filter((name) => name.startsWith(TEMP_DIR_PREFIX));
  } catch {
    return [];
  }
}
