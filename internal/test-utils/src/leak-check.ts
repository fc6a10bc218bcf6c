import { afterAll, afterEach, beforeAll } from "vitest";
import { childProcessIds, newDescriptors, openChannelDescriptors } from "./leaks.js";
import { stopRedisServers } from "./redis-server.js";
import { stopAllPeers } from "./spawn-peer.js";
import { leftoverSharedMemory, leftoverTempDirs, removeTempDirs } from "./temp-dir.js";

// Vitest setup file: every test file must end with no child processes, no extra sockets or pipes, and no
// temp directories. Peers and temp dirs are cleaned after each test; leftovers fail the file.
let baseline = new Map<string, string>();
let baselineChildren = new Set<number>();

beforeAll(() => {
  baseline = openChannelDescriptors();
  baselineChildren = new Set(childProcessIds());
});

afterEach(async () => {
  const stopped = await stopAllPeers();
  removeTempDirs();
  if (stopped > 0)
    throw new Error(`leak check: ${stopped} peer process(es) were still running after the test`);
});

afterAll(async () => {
  const problems: string[] = [];
  const servers = await stopRedisServers();
  if (servers > 0) problems.push(`${servers} redis-server(s) a test started were still running`);
  const children = childProcessIds().filter((pid) => !baselineChildren.has(pid));
  if (children.length > 0) problems.push(`child processes still running: ${children.join(", ")}`);
  const descriptors = await newDescriptors(baseline);
  if (descriptors.length > 0) problems.push(`descriptors still open: ${descriptors.join("; ")}`);
  const segments = leftoverSharedMemory();
  if (segments.length > 0) problems.push(`shared-memory segments left in /dev/shm: ${segments.join(", ")}`);
  const dirs = leftoverTempDirs();
  if (dirs.length > 0) problems.push(`temp directories left behind: ${dirs.join(", ")}`);
  if (problems.length > 0) throw new Error(`leak check failed:\n${problems.join("\n")}`);
});
