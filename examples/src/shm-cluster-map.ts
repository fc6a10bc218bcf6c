// @ipc/shm: the workers of a Node cluster share a key-value map with atomic counters, with no server
// process (Python's Manager().dict(), the common case). Segments left by a crashed earlier run are
// removed at start.
import cluster from "node:cluster";
import { createSharedMap, openSharedMap, uniqueSegmentName, unlinkOrphanedSegments } from "@ipc/shm";

const PREFIX = "ipc-demo-cluster-map";

if (cluster.isPrimary) {
  const removed = unlinkOrphanedSegments(PREFIX);
  if (removed.length > 0) console.log(`  removed segments of dead runs: ${removed.join(", ")}`);
  const name = uniqueSegmentName(PREFIX);
  // The primary created the map, so its close (at the end of this block) removes the name.
  using visits = createSharedMap<unknown>({ name, capacity: 256 });
  const workers = [1, 2, 3].map(() => cluster.fork({ VISITS_MAP: name }));
  await Promise.all(workers.map((worker) => new Promise((resolve) => worker.once("exit", resolve))));
  console.log(`  total visits: ${visits.get("visits")} (3 workers x 600)`);
  for (const [key, value] of visits.entries().sort()) {
    if (key.startsWith("page:")) console.log(`  ${key} -> ${value}`);
  }
  console.log(`  last worker seen: ${JSON.stringify(visits.get("last"))}`);
} else {
  using visits = openSharedMap(process.env.VISITS_MAP!);
  for (let i = 0; i < 600; i += 1) {
    visits.increment("visits");
    visits.increment(`page:/${["home", "about", "docs"][i % 3]}`);
  }
  visits.set("last", { worker: cluster.worker!.id, pid: process.pid });
  process.exit(0);
}
