export type {
  JoinableQueueUnderTest,
  LeaseUnderTest,
  PeerConsumer,
  QueueCapabilities,
  QueueRequest,
  QueueSubject,
  QueueUnderTest,
} from "./subject.js";
export { describeQueueConformance } from "./suite.js";
