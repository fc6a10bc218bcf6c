import { constants } from "node:os";
import { IpcError, v8, type WaitOptions } from "@ipc/core";
import { checkWaitOptions, waitLimits } from "@ipc/core/transport";
import type { ChildExit } from "./child-exit.js";
import { PipeErrorCode } from "./errors.js";
import type { PipedChild } from "./piped-child.js";
import { bootstrapPath, callerModules, type ExportLocation, exportLocation } from "./process-locate.js";
import { packValues } from "./shared-args.js";
import { forkWithPipes } from "./spawn.js";

/** Options of a {@link Process}. */
export interface ProcessOptions<A extends unknown[]> {
  /** The function the child runs with `args`: an exported function of a module (subclasses override `run` instead). */
  target?: ((...args: A) => unknown) | undefined;
  /** Arguments of `target` (or `run`). Shared objects (queues, locks, segments...) arrive ready to use; other values are copied (structured clone). */
  args?: A | undefined;
  /** A name for messages and `currentProcess().name`. @default "Process-<n>" */
  name?: string | undefined;
  /** The module that exports the target or the subclass. @default the modules that called `new Process()` */
  module?: string | URL | undefined;
  /** End the child when this process ends, however it ends (Python's `daemon`). @default false */
  daemon?: boolean | undefined;
  /** Node options of the child. @default process.execArgv */
  execArgv?: readonly string[] | undefined;
  /** Environment of the child. @default process.env */
  env?: NodeJS.ProcessEnv | undefined;
  cwd?: string | undefined;
}

/** What crosses to the child, over its pipe. @internal */
export interface ProcessSpec {
  readonly name: string;
  readonly daemon: boolean;
  /** The target function, or the subclass (then `fields` are its instance's own fields). */
  readonly kind: "target" | "subclass";
  readonly location: ExportLocation;
  readonly args: unknown;
  readonly fields: unknown;
  readonly shared: ReturnType<typeof packValues>["shared"];
}

/** What the child says once it is ready to run, or why it cannot. @internal */
export interface ChildReport {
  readonly error?: { readonly code: string; readonly message: string };
}

interface ProcessState {
  readonly options: ProcessOptions<unknown[]>;
  readonly name: string;
  readonly callers: string[];
  child?: PipedChild;
  exit?: ChildExit;
  starting?: Promise<void>;
  daemonPipe?: unknown;
}

/** The state of each `Process` object in the process that made it (a child's copy has none). */
const states = new WeakMap<Process<unknown[]>, ProcessState>();
let created = 0;

/**
 * In a child started by a `Process`: its name (set by the child's entry point). On globalThis, so that
 * every copy of this package in the child (the entry point's, the user's) sees it. @internal
 */
export const childIdentity: { name: string | undefined } = ((globalThis as Record<symbol, unknown>)[
  Symbol.for("@ipc/pipe.processIdentity.v1")
] ??= { name: undefined }) as { name: string | undefined };

/**
 * Python's `multiprocessing.Process` for Node: runs `target(...args)`, or a subclass's `run()`, in a new
 * Node process. The target (or subclass) must be exported by its module, which the child imports (guard
 * your program's main code as Node does: `if (import.meta.filename === process.argv[1])`, since the child's
 * entry point is not your file). Shared objects among the args (and a subclass's fields) arrive ready to
 * use: queues, locks, values, segments, shared-memory channels.
 */
export class Process<A extends unknown[] = []> implements AsyncDisposable {
  constructor(options: ProcessOptions<A> = {}) {
    created += 1;
    states.set(this as Process<unknown[]>, {
      options: options as ProcessOptions<unknown[]>,
      name: options.name ?? `Process-${created}`,
      callers: options.module === undefined ? callerModules() : [String(options.module)],
    });
  }

  /** The name given, or "Process-<n>"; in the child, its own name. */
  get name(): string {
    return states.get(this as Process<unknown[]>)?.name ?? childIdentity.name ?? "Process";
  }

  /** The child's process id once started; in the child, its own. */
  get pid(): number | undefined {
    const state = states.get(this as Process<unknown[]>);
    return state === undefined ? process.pid : state.child?.pid;
  }

  /** null while it runs (or before it starts); its exit code once it ended, or minus the signal number that ended it (Python's convention). */
  get exitCode(): number | null {
    const exit = states.get(this as Process<unknown[]>)?.exit;
    if (exit === undefined) return null;
    if (exit.signal !== null) return -(constants.signals[exit.signal] ?? 0);
    return exit.code;
  }

  /** True from `start()` until the child ends. */
  isAlive(): boolean {
    const state = states.get(this as Process<unknown[]>);
    if (state === undefined) return true; // in the child: this is the running process
    return state.child !== undefined && state.exit === undefined;
  }

  /**
   * Starts the child and resolves once it runs and has its arguments.
   * @throws `ERR_IPC_PIPE_PROCESS_STATE` when started before, `ERR_IPC_PIPE_NOT_EXPORTED`, `ERR_IPC_INVALID_ARGUMENT`
   * (an argument that cannot cross), the errors of `forkWithPipes`
   */
  start(options?: WaitOptions): Promise<void> {
    const state = this.#state("start");
    if (state.starting !== undefined) {
      return Promise.reject(
        new IpcError(PipeErrorCode.PROCESS_STATE, `${state.name} was started already; a Process starts once`),
      );
    }
    state.starting = this.#start(state, options);
    return state.starting;
  }

  /**
   * Waits for the child to end and resolves with how it ended (`exitCode` is then set).
   * @throws `ERR_IPC_TIMEOUT`, `ERR_IPC_ABORTED`, `ERR_IPC_PIPE_PROCESS_STATE` (not started)
   */
  async join(options: WaitOptions = {}): Promise<ChildExit> {
    checkWaitOptions(options, "join");
    const state = this.#state("join");
    if (state.starting === undefined) {
      throw new IpcError(PipeErrorCode.PROCESS_STATE, `${state.name} cannot be joined before it is started`);
    }
    await state.starting;
    const limits = waitLimits(`joining ${state.name}`, options);
    try {
      return await Promise.race([state.child!.exited, limits.expired]);
    } finally {
      limits.release();
    }
  }

  /** Sends SIGTERM to the child (Python's `terminate()`). */
  terminate(): void {
    this.#signal("SIGTERM");
  }

  /** Sends SIGKILL to the child (Python's `kill()`). */
  kill(): void {
    this.#signal("SIGKILL");
  }

  /** What the child runs: `target(...args)`. Override it in a subclass (the args are passed to it too). */
  run(...args: A): unknown {
    const target = states.get(this as Process<unknown[]>)?.options.target ?? childTarget.get(this);
    return target?.(...args);
  }

  /** Kills a child still running and waits for it to end. */
  async [Symbol.asyncDispose](): Promise<void> {
    const state = states.get(this as Process<unknown[]>);
    if (state?.child === undefined || state.exit !== undefined) return;
    state.child.process.kill("SIGKILL");
    await state.child.exited;
  }

  #state(what: string): ProcessState {
    const state = states.get(this as Process<unknown[]>);
    if (state === undefined) {
      throw new IpcError(
        PipeErrorCode.PROCESS_STATE,
        `${what}() is for the parent; this is the child's own process`,
      );
    }
    return state;
  }

  #signal(signal: NodeJS.Signals): void {
    const state = this.#state(signal === "SIGTERM" ? "terminate" : "kill");
    if (state.child !== undefined && state.exit === undefined) state.child.process.kill(signal);
  }

  async #start(state: ProcessState, waitOptions: WaitOptions | undefined): Promise<void> {
    const { options } = state;
    const subclass = this.constructor !== Process;
    const wanted = subclass ? this.constructor : options.target;
    if (typeof wanted !== "function") {
      throw new IpcError(
        PipeErrorCode.PROCESS_STATE,
        `${state.name} has nothing to run: pass { target } or subclass Process and override run()`,
      );
    }
    const location = exportLocation(wanted, state.callers, subclass ? `class ${wanted.name}` : "the target");
    const packed = packValues({ args: options.args ?? [], fields: subclass ? { ...this } : {} });
    const child = await forkWithPipes(bootstrapPath(), [], {
      pipes: [{ codec: v8 }],
      inherit: packed.fds,
      execArgv: options.execArgv,
      env: options.env,
      cwd: options.cwd,
      timeout: waitOptions?.timeout,
      signal: waitOptions?.signal,
    });
    state.child = child;
    void child.exited.then((exit) => {
      state.exit = exit;
    });
    const values = packed.values as { args: unknown; fields: unknown };
    const spec: ProcessSpec = {
      name: state.name,
      daemon: options.daemon ?? false,
      kind: subclass ? "subclass" : "target",
      location,
      args: values.args,
      fields: values.fields,
      shared: packed.shared,
    };
    const channel = child.channel<ProcessSpec | ChildReport>();
    try {
      await channel.send(spec);
      // The child answers once it found what to run and rebuilt its arguments, or says why it could not.
      const report = (await channel.receive(waitOptions)) as ChildReport;
      if (report.error !== undefined) throw new IpcError(report.error.code as never, report.error.message);
    } catch (error) {
      child.process.kill("SIGKILL");
      await channel.close();
      throw error;
    }
    // A daemon's pipe stays open while this process lives: the child ends when it closes.
    if (spec.daemon) state.daemonPipe = channel;
    else await channel.close();
  }
}

/** In the child: the target a `Process` object runs (shared by every copy of this package). @internal */
export const childTarget = ((globalThis as Record<symbol, unknown>)[
  Symbol.for("@ipc/pipe.processTargets.v1")
] ??= new WeakMap()) as WeakMap<object, (...args: unknown[]) => unknown>;

/** This process as a `Process` sees it: its name ("MainProcess" unless a `Process` started it) and pid. */
export function currentProcess(): { readonly name: string; readonly pid: number } {
  return { name: childIdentity.name ?? "MainProcess", pid: process.pid };
}
