export type { CodecName } from "./codecs.js";
export { CODECS, codecByName } from "./codecs.js";
export type { ListenerSubject } from "./listener.js";
export { describeListenerConformance } from "./listener.js";
export type { RemoteCloseInfo, RemoteEnd, TakeResult } from "./remote.js";
export type { ControlReply, ControlRequest } from "./remote-host.js";
export { hostRemoteEnd } from "./remote-host.js";
export type { PeerPairOptions } from "./remote-proxy.js";
export {
  pairWithPeer,
  pairWithSuccessivePeers,
  RemoteError,
  remoteEndInProcess,
  waitForRemoteReady,
} from "./remote-proxy.js";
export { serveChannel } from "./serve-channel.js";
export type {
  ConformanceCapabilities,
  ConformancePair,
  ConformanceSubject,
  Flow,
  LocalEnd,
  PairOptions,
} from "./subject.js";
export { describeConformance } from "./suite.js";
