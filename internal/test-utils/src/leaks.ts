import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

/** Open file descriptors of this process that are sockets, pipes or FIFOs (Linux: from /proc/self/fd). */
export function openChannelDescriptors(): Map<string, string> {
  const found = new Map<string, string>();
  let entries: string[];
  try {
    entries = readdirSync("/proc/self/fd");
  } catch {
    return found;
  }
  for (const fd of entries) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith("socket:") || target.startsWith("pipe:")) found.set(fd, target);
    } catch {
      // The descriptor closed while we looked (readdir's own fd, for one).
    }
  }
  return found;
}

/** Process ids of this process's live children (Linux: from /proc), zombies excluded. */
export function childProcessIds(): number[] {
  const children: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${process.pid}/task`)) {
      const text = readFileSync(`/proc/${process.pid}/task/${task}/children`, "utf8").trim();
      for (const pid of text.split(/\s+/).filter(Boolean)) {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        if (!/\) Z /.test(stat)) children.push(Number(pid));
      }
    }
  } catch {
    // A child exited while we looked; the next poll sees the settled state.
  }
  return children;
}

/** Descriptors in `after` that were not in `before`, after waiting up to `waitMs` for them to close. */
export async function newDescriptors(before: Map<string, string>, waitMs = 2_000): Promise<string[]> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const extra = [...openChannelDescriptors()].filter(([fd, target]) => before.get(fd) !== target);
    if (extra.length === 0 || Date.now() >= deadline)
      return extra.map(([fd, target]) => `fd ${fd} -> ${target}`);
    await sleep(25);
  }
}
