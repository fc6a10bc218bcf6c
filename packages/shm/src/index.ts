export type { ShmErrorCodeString } from "./errors.js";
export { ShmErrorCode } from "./errors.js";
export type { AnonymousSegment, CreateSegmentOptions, Segment } from "./segment.js";
export {
  createAnonymousSegment,
  createSegment,
  DEFAULT_SEGMENT_MODE,
  MAX_SEGMENT_NAME_BYTES,
  openSegment,
  openSegmentFd,
  segmentName,
  unlinkSegment,
} from "./segment.js";
