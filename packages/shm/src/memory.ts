import { readFileSync } from "node:fs";

/**
 * Bytes of memory this process could still be given (Linux): what /proc/meminfo calls MemAvailable,
 * lowered to what the process's cgroup still allows. Undefined where neither can be read. Shared memory
 * is real memory: reserving more than this wakes the kernel's OOM killer for the whole machine.
 */
export function availableMemoryBytes(): number | undefined {
  const candidates = [memAvailable(), cgroupRoom()].filter((value): value is number => value !== undefined);
  return candidates.length === 0 ? undefined : Math.min(...candidates);
}

function memAvailable(): number | undefined {
  const match = /^MemAvailable:\s+(\d+) kB$/m.exec(readText("/proc/meminfo") ?? "");
  return match ? Number(match[1]) * 1024 : undefined;
}

/** Room left under this process's cgroup memory limit (v2, or v1's memory controller), or undefined when unlimited or unknown. */
function cgroupRoom(): number | undefined {
  const membership = readText("/proc/self/cgroup") ?? "";
  const v2 = /^0::(.*)$/m.exec(membership)?.[1];
  const v1 = /^\d+:(?:[^:]*,)?memory(?:,[^:]*)?:(.*)$/m.exec(membership)?.[1];
  const pairs: [string, string][] = [];
  if (v2 !== undefined) pairs.push(inDirectory(`/sys/fs/cgroup${v2}`, "memory.max", "memory.current"));
  if (v1 !== undefined) {
    pairs.push(inDirectory(`/sys/fs/cgroup/memory${v1}`, "memory.limit_in_bytes", "memory.usage_in_bytes"));
  }
  for (const [limitFile, usageFile] of pairs) {
    const limit = Number(readText(limitFile)?.trim());
    const usage = Number(readText(usageFile)?.trim());
    // "max" (v2) and v1's huge default both mean no limit.
    if (Number.isSafeInteger(limit) && limit < 2 ** 60 && Number.isSafeInteger(usage)) {
      return Math.max(0, limit - usage);
    }
  }
  return undefined;
}

function inDirectory(directory: string, limit: string, usage: string): [string, string] {
  const base = directory.endsWith("/") ? directory : `${directory}/`;
  return [`${base}${limit}`, `${base}${usage}`];
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}
