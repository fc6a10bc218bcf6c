export type { OnDoorbellOptions } from "./doorbell.js";
export { onDoorbell } from "./doorbell.js";
export { SignalErrorCode } from "./errors.js";
export type { ForwardSignalsOptions } from "./forward.js";
export { DEFAULT_FORWARDED_SIGNALS, forwardSignals } from "./forward.js";
export type { SignalDisposer, SignalsOptions, WaitForSignalOptions } from "./listen.js";
export { onSignal, signals, waitForSignal } from "./listen.js";
export { processAlive } from "./process-alive.js";
export type { SignalTarget } from "./send.js";
export { sendSignal } from "./send.js";
export type {
  ConfigureShutdownOptions,
  OnShutdownOptions,
  ShutdownOptions,
  ShutdownReason,
  ShutdownStep,
} from "./shutdown.js";
export {
  configureShutdown,
  DEFAULT_SHUTDOWN_DEADLINE_MS,
  DEFAULT_SHUTDOWN_SIGNALS,
  DEFAULT_STEP_TIMEOUT_MS,
  isShuttingDown,
  onShutdown,
  shutdown,
} from "./shutdown.js";
export type { OnSignalOptions, SignalName } from "./signal-names.js";
export { listenableSignal, signalName, signalNumber } from "./signal-names.js";
