export { childProcessIds, newDescriptors, openChannelDescriptors } from "./leaks.js";
export { readableByOthers } from "./other-user.js";
export { bundledPeer } from "./peer-bundle.js";
export type { RedisServer, RedisServerOptions } from "./redis-server.js";
export { findRedisServer, startRedisServer, stopRedisServers } from "./redis-server.js";
export type { Peer, PeerExit, SpawnPeerOptions } from "./spawn-peer.js";
export {
  DEFAULT_KILL_GRACE_MS,
  DEFAULT_PEER_TIMEOUT_MS,
  nodeArgsFor,
  spawnPeer,
  stopAllPeers,
  TYPESCRIPT_NODE_ARGS,
  trackChild,
} from "./spawn-peer.js";
export {
  createTempDir,
  leftoverSharedMemory,
  leftoverTempDirs,
  removeTempDirs,
  TEMP_DIR_PREFIX,
} from "./temp-dir.js";
export { waitUntil } from "./wait-until.js";
