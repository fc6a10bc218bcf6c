export { onDoorbell } from "./doorbell.js";
export type { SignalErrorCodeString } from "./errors.js";
export { SignalErrorCode } from "./errors.js";
export { DEFAULT_FORWARDED_SIGNALS, forwardSignals } from "./forward.js";
export type { SignalDisposer } from "./listen.js";
export { onSignal, signals, waitForSignal } from "./listen.js";
export type { SignalTarget } from "./send.js";
export { isAlive, sendSignal } from "./send.js";
export type { ShutdownReason, ShutdownSettings, ShutdownStep, ShutdownStepOptions } from "./shutdown.js";
export {
  configureShutdown,
  DEFAULT_SHUTDOWN_DEADLINE_MS,
  DEFAULT_SHUTDOWN_SIGNALS,
  DEFAULT_STEP_TIMEOUT_MS,
  isShuttingDown,
  onShutdown,
  shutdown,
} from "./shutdown.js";
export type { ListenOptions, SignalName } from "./signal-names.js";
export { listenableSignal, signalName, signalNumber } from "./signal-names.js";
