export type { CreateFifoOptions } from "./create-fifo.js";
export { createFifo, DEFAULT_FIFO_MODE, removeFifo } from "./create-fifo.js";
export type { FifoErrorCodeString } from "./errors.js";
export { FifoErrorCode } from "./errors.js";
export type {
  OpenFifoOptions,
  OpenFifoPairOptions,
  OpenFifoReaderOptions,
  OpenFifoWriterOptions,
} from "./open-fifo.js";
export { openFifoPair, openFifoReader, openFifoWriter, PIPE_BUF_BYTES } from "./open-fifo.js";
export { ServingFifoReader } from "./serving-reader.js";
