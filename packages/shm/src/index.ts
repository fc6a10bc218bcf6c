export type { ShmErrorCodeString } from "./errors.js";
export { ShmErrorCode } from "./errors.js";
export type { CreateSegmentOptions, Segment } from "./segment.js";
export {
  createSegment,
  DEFAULT_SEGMENT_MODE,
  MAX_SEGMENT_NAME_BYTES,
  openSegment,
  segmentName,
  unlinkSegment,
} from "./segment.js";
