// What a peer process needs, without the suite (and so without Vitest): it starts faster.
export type { CodecName } from "./codecs.js";
export { CODECS, codecByName } from "./codecs.js";
export { hostRemoteEnd } from "./remote-host.js";
