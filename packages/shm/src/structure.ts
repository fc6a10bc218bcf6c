// @ipc/shm/structure: the machinery @ipc/shm's own structures are built from, for packages that build
// theirs in a segment (@ipc/queue does). Users want "@ipc/shm".
export type { Step, WaitWord } from "./blocking.js";
export { blockUntil, waitUntil, wakeSleepers } from "./blocking.js";
export { identityGone, identityPid, selfIdentity } from "./process-identity.js";
export type { FormattedSegmentOptions, SegmentKind } from "./segment-header.js";
export {
  createFormatted,
  notOfKind,
  openFormatted,
  readSegmentHeader,
  writeSegmentHeader,
} from "./segment-header.js";
export { wordsAt } from "./words.js";
