import { raceTimeout } from "@ipc/core/transport";
import { onSignal, type SignalDisposer } from "./listen.js";
import { listenableSignal, type SignalName, signalNumber } from "./signal-names.js";
import { startWatchdog, WATCHDOG_GRACE_MS } from "./watchdog.js";

/** Milliseconds one shutdown step may take before the next one starts. */
export const DEFAULT_STEP_TIMEOUT_MS = 5_000;
/** Milliseconds the whole shutdown may take before the process exits regardless. */
export const DEFAULT_SHUTDOWN_DEADLINE_MS = 10_000;
/** Signals that start the shutdown unless `configureShutdown` says otherwise. */
export const DEFAULT_SHUTDOWN_SIGNALS: readonly SignalName[] = ["SIGTERM", "SIGINT", "SIGHUP"];

/** Why the shutdown runs: a signal, or a call to {@link shutdown}. */
export interface ShutdownReason {
  signal?: SignalName;
  /** Text given to `shutdown({ reason })`. */
  reason?: string;
}

/** A clean-up step. */
export type ShutdownStep = (why: ShutdownReason) => unknown;

/** Options for {@link onShutdown}. */
export interface OnShutdownOptions {
  /** Used in messages about the step. */
  name?: string;
  /** Milliseconds before the step is given up and the next one runs. @default 5000 */
  timeout?: number;
}

/** Process-wide shutdown settings for {@link configureShutdown}. */
export interface ConfigureShutdownOptions {
  /** @default ["SIGTERM", "SIGINT", "SIGHUP"] */
  signals?: readonly SignalName[];
  /** Milliseconds the whole shutdown may take before the process exits regardless. @default 10000 */
  deadline?: number;
  /** Exit code after a signal; by default the shell's 128 + signal number. */
  exitCode?: number;
  /** Where progress and problems are reported. @default writes to stderr */
  log?: (message: string) => void;
}

interface Step {
  run: ShutdownStep;
  name: string;
  timeout: number;
}

type Settings = Required<Omit<ConfigureShutdownOptions, "exitCode">> & { exitCode?: number };

/**
 * The shutdown is one per process, whichever copies of this package it loaded (an ES module and a
 * CommonJS build side by side, say): its steps, settings and signal listener live in one object on
 * `globalThis`, shared by them all.
 */
interface ShutdownState {
  readonly steps: Step[];
  settings: Settings;
  listening: SignalDisposer | undefined;
  running: Promise<void> | undefined;
}

const STATE = Symbol.for("@ipc/signal.shutdown.v1");
const state: ShutdownState = ((globalThis as Record<symbol, ShutdownState | undefined>)[STATE] ??= {
  steps: [],
  settings: {
    signals: DEFAULT_SHUTDOWN_SIGNALS,
    deadline: DEFAULT_SHUTDOWN_DEADLINE_MS,
    log: (message) => process.stderr.write(`${message}\n`),
  },
  listening: undefined,
  running: undefined,
});
const steps = state.steps;

/**
 * Registers a clean-up step. Steps run once, in reverse order of registration, each within its time
 * limit, when one of the shutdown signals arrives (or `shutdown()` is called); then the process exits.
 * Returns a disposer; when no step is left, the signals get Node's default behaviour back.
 */
export function onShutdown(run: ShutdownStep, options: OnShutdownOptions = {}): SignalDisposer {
  const step: Step = {
    run,
    name: options.name ?? (run.name || `step ${steps.length + 1}`),
    timeout: options.timeout ?? DEFAULT_STEP_TIMEOUT_MS,
  };
  steps.push(step);
  listen();
  let disposed = false;
  const dispose = () => {
    if (disposed) return;
    disposed = true;
    const index = steps.indexOf(step);
    if (index >= 0) steps.splice(index, 1);
    if (steps.length === 0 && state.running === undefined) unlisten();
  };
  return Object.assign(dispose, { [Symbol.dispose]: dispose });
}

/** Changes the process-wide shutdown settings (signals, deadline, exit code, log). */
export function configureShutdown(options: ConfigureShutdownOptions): void {
  const signals = (options.signals ?? state.settings.signals).map((signal) => listenableSignal(signal));
  state.settings = { ...state.settings, ...options, signals };
  if (state.listening !== undefined) {
    unlisten();
    listen();
  }
}

/** Options for {@link shutdown}. */
export interface ShutdownOptions {
  /** Exit code once the steps have run. @default 0 */
  exitCode?: number;
  /** Why, for the steps (`ShutdownReason.reason`). */
  reason?: string;
  /** `false` runs the steps without exiting. @default true */
  exit?: boolean;
}

/** Runs the shutdown now (once); unless `exit: false`, then exits with `exitCode` (0). */
export function shutdown(options: ShutdownOptions = {}): Promise<void> {
  return start(
    { reason: options.reason ?? "shutdown() was called" },
    options.exit === false ? undefined : (options.exitCode ?? 0),
  );
}

/** True once a shutdown has begun. */
export function isShuttingDown(): boolean {
  return state.running !== undefined;
}

function listen(): void {
  state.listening ??= onSignal(state.settings.signals, (signal) => {
    if (state.running !== undefined) {
      // A second signal: the user insists.
      state.settings.log(`${signal} again: exiting now without waiting for the remaining shutdown steps`);
      process.exit(128 + signalNumber(signal));
    }
    void start({ signal }, state.settings.exitCode ?? 128 + signalNumber(signal));
  });
}

function unlisten(): void {
  state.listening?.();
  state.listening = undefined;
}

function start(why: ShutdownReason, exitCode: number | undefined): Promise<void> {
  state.running ??= (async () => {
    const deadline =
      exitCode === undefined
        ? undefined
        : setTimeout(() => {
            state.settings.log(`shutdown took longer than ${state.settings.deadline} ms: exiting now`);
            process.exit(exitCode);
          }, state.settings.deadline);
    // A step that blocks the event loop keeps that timer from firing: the watchdog does not wait for it.
    const stopWatchdog =
      exitCode === undefined ? undefined : startWatchdog(state.settings.deadline + WATCHDOG_GRACE_MS);
    for (const step of [...steps].reverse()) await runStep(step, why);
    clearTimeout(deadline);
    stopWatchdog?.();
    if (exitCode !== undefined) process.exit(exitCode);
  })();
  return state.running;
}

async function runStep(step: Step, why: ShutdownReason): Promise<void> {
  try {
    const outcome = await raceTimeout(
      Promise.resolve().then(() => step.run(why)),
      step.timeout,
      TIMED_OUT,
    );
    if (outcome === TIMED_OUT) {
      state.settings.log(`shutdown step "${step.name}" took more than ${step.timeout} ms; moving on`);
    }
  } catch (error) {
    state.settings.log(
      `shutdown step "${step.name}" failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

const TIMED_OUT = Symbol("timed out");
