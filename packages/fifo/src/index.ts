export type { CreateFifoOptions } from "./create-fifo.js";
export { createFifo, DEFAULT_FIFO_MODE, unlinkFifo } from "./create-fifo.js";
export { FifoErrorCode } from "./errors.js";
export type {
  OpenFifoChannelOptions,
  OpenFifoOptions,
  OpenFifoReceiverOptions,
  OpenFifoSenderOptions,
} from "./open-fifo.js";
export { openFifoChannel, openFifoReceiver, openFifoSender, PIPE_BUF_BYTES } from "./open-fifo.js";
export type { FifoTrust } from "./trust.js";
