import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { processAlive } from "@ipc/core/transport";
import { segmentName, unlinkSegment } from "./segment.js";

/**
 * A segment name unique to this process, `<prefix>-<pid>-<random>`: if the process is killed before it
 * removes the segment, {@link unlinkOrphanedSegments} finds it by the dead pid.
 */
export function uniqueSegmentName(prefix: string): string {
  const name = `${segmentName(prefix).slice(1)}-${process.pid}-${randomBytes(4).toString("hex")}`;
  return segmentName(name).slice(1);
}

/**
 * Removes the names of the segments named by {@link uniqueSegmentName} with `prefix` whose process no
 * longer exists (it was killed, or exited without cleaning up); returns the names removed. Run it when a
 * service starts. Lists /dev/shm, so it finds nothing where that directory does not exist.
 */
export function unlinkOrphanedSegments(prefix: string): string[] {
  const bare = segmentName(prefix).slice(1);
  let names: string[];
  try {
    names = readdirSync("/dev/shm");
  } catch {
    return [];
  }
  const pattern = new RegExp(`^${bare.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-(\\d+)-[0-9a-f]{8}$`);
  const removed: string[] = [];
  for (const name of names) {
    const match = pattern.exec(name);
    if (match === null || processAlive(Number(match[1]))) continue;
    try {
      unlinkSegment(name);
      removed.push(name);
    } catch {
      // Removed by someone else meanwhile.
    }
  }
  return removed;
}
