import { type StdioOptions, spawn } from "node:child_process";
import type { Socket } from "node:net";
import { createStreamChannel, IpcError, IpcErrorCode, isIpcError, type WaitOptions } from "@ipc/core";
import {
  PEER_EXIT_GRACE_MS,
  raceTimeout,
  SmallFrameReader,
  toIpcError,
  waitLimits,
} from "@ipc/core/transport";
import { type ChildExit, childLife, describeExit, exitDetails, exitOf } from "./child-exit.js";
import { PipeErrorCode } from "./errors.js";
import { DEFAULT_START_TIMEOUT_MS, HELLO_PAYLOAD } from "./hello.js";
import {
  encodePipesEnv,
  FIRST_PIPE_FD,
  FIRST_PIPE_FD_ENV,
  HELLO_ENV,
  normalizePipes,
  PIPES_ENV,
  type PipeOptions,
} from "./pipe-spec.js";
import { DEFAULT_STOP_TIMEOUT_MS, type ParentPipe, PipedChild } from "./piped-child.js";

/** Options for {@link spawnWithPipes}. */
export interface SpawnWithPipesOptions extends WaitOptions {
  /** The pipes, in descriptor order from fd 3. @default [{}]: one duplex json pipe */
  pipes?: readonly PipeOptions[];
  /** What fds 0-2 of the child are. @default ["inherit", "inherit", "inherit"] */
  stdio?: readonly [
    "pipe" | "inherit" | "ignore",
    "pipe" | "inherit" | "ignore",
    "pipe" | "inherit" | "ignore",
  ];
  /** Also give the child Node's own IPC channel (after the pipes), with this serialization. */
  nodeIpc?: "json" | "advanced";
  cwd?: string;
  /** Environment of the child. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Stop the child (SIGTERM, then SIGKILL after `timeout` ms, 5000 by default) once all its pipes are closed or disposed. */
  stopOnClose?: boolean | { timeout: number };
  /** Descriptors of this process the child inherits, right after the pipes (the child finds them at `3 + pipes.length + i`). */
  inherit?: readonly number[];
}

/** Options for {@link forkWithPipes}. */
export interface ForkWithPipesOptions extends SpawnWithPipesOptions {
  /** Node options for the child (`--conditions=...`). @default process.execArgv */
  execArgv?: readonly string[];
}

/**
 * Starts `command` with anonymous pipes to it (Unix socketpairs) at fd 3, 4, ...; the child finds them
 * in `IPC_PIPES` (and the first in `IPC_PIPE_FD`), so any language can use them — Python with only
 * `multiprocessing.connection.Connection(fd)`. Resolves once the process has started.
 * @throws `ERR_IPC_PIPE_SPAWN` when the command cannot be started, `ERR_IPC_INVALID_ARGUMENT`
 */
export async function spawnWithPipes(
  command: string,
  args: readonly string[] = [],
  options: SpawnWithPipesOptions = {},
): Promise<PipedChild> {
  return start(command, args, options, false);
}

/**
 * Starts the Node module `modulePath` with anonymous pipes to it; it calls `openParentChannel()` (or
 * `openParentChannels()`). Resolves once the child has opened its pipes.
 * @throws `ERR_IPC_PIPE_SPAWN`, `ERR_IPC_PIPE_EARLY_EXIT` (it exited first), `ERR_IPC_TIMEOUT` (30 s by
 * default), `ERR_IPC_ABORTED`
 */
export async function forkWithPipes(
  modulePath: string,
  args: readonly string[] = [],
  options: ForkWithPipesOptions = {},
): Promise<PipedChild> {
  const execArgv = options.execArgv ?? process.execArgv;
  return start(process.execPath, [...execArgv, modulePath, ...args], options, true);
}

async function start(
  command: string,
  args: readonly string[],
  options: SpawnWithPipesOptions,
  expectHello: boolean,
): Promise<PipedChild> {
  const pipes = normalizePipes(options.pipes);
  const stdio: StdioOptions = [
    ...(options.stdio ?? ["inherit", "inherit", "inherit"]),
    ...pipes.map(() => "pipe" as const),
    ...(options.inherit ?? []),
  ];
  if (options.nodeIpc) stdio.push("ipc");
  const env: NodeJS.ProcessEnv = {
    ...(options.env ?? process.env),
    [PIPES_ENV]: encodePipesEnv(pipes),
    [FIRST_PIPE_FD_ENV]: String(FIRST_PIPE_FD),
  };
  if (expectHello) env[HELLO_ENV] = "1";
  else delete env[HELLO_ENV];

  const child = spawn(command, args, {
    stdio,
    env,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    ...(options.nodeIpc ? { serialization: options.nodeIpc } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", (error: NodeJS.ErrnoException) => {
      const code = error.code ?? "unknown error";
      reject(
        new IpcError(
          PipeErrorCode.SPAWN,
          `could not start ${JSON.stringify(command)} (${code}): ${code === "ENOENT" ? "check the command name, PATH and cwd" : error.message}`,
          { cause: error, errno: code, syscall: error.syscall ?? "spawn", path: command },
        ),
      );
    });
  });

  const exited = exitOf(child);
  const sockets = pipes.map((_, index) => child.stdio[FIRST_PIPE_FD + index] as Socket);
  try {
    if (expectHello) await waitForHello(child.pid, sockets, pipes, exited, options);
  } catch (error) {
    for (const socket of sockets) socket.destroy();
    child.kill("SIGKILL");
    throw error;
  }
  const peerLife = childLife(child, exited);
  const parentPipes: ParentPipe[] = pipes.map((pipe, index) => {
    const stream = sockets[index]!;
    if (pipe.raw) return { direction: pipe.direction, stream };
    const channel = createStreamChannel(stream, {
      direction: pipe.direction,
      peerLife,
      codec: pipe.codec,
      maxFrameSize: pipe.maxFrameSize,
      receiveHighWaterMark: pipe.receiveHighWaterMark,
    });
    return { direction: pipe.direction, channel, stream };
  });
  const stop = options.stopOnClose;
  const stopTimeout = stop === true ? DEFAULT_STOP_TIMEOUT_MS : stop ? stop.timeout : undefined;
  return new PipedChild(child, parentPipes, stopTimeout);
}

/** Waits for the hello a Node child writes on its first pipe it can write to. */
async function waitForHello(
  pid: number | undefined,
  sockets: Socket[],
  pipes: { direction: string; raw: boolean }[],
  exited: Promise<ChildExit>,
  options: WaitOptions,
): Promise<void> {
  const index = pipes.findIndex((pipe) => pipe.direction !== "send" && !pipe.raw);
  if (index < 0) return; // No pipe from the child to us: nothing to wait for.
  const reader = new SmallFrameReader(sockets[index]!, {
    maxFrameBytes: HELLO_PAYLOAD.length,
    context: "waiting for the child's hello",
  });
  const timeout = options.timeout ?? DEFAULT_START_TIMEOUT_MS;
  const limits = waitLimits("starting the child", { signal: options.signal, timeout });
  const early = exited.then((exit) => {
    throw new IpcError(
      PipeErrorCode.EARLY_EXIT,
      `child process ${pid} ended with ${describeExit(exit)} before it opened its pipes; check its stderr, and that it calls openParentChannel()`,
      exitDetails(exit),
    );
  });
  const read = reader.read().catch(async (error: unknown) => {
    // The pipe usually closes just before the exit is reported: prefer the exit's story.
    if (isIpcError(error, IpcErrorCode.PEER_GONE)) await raceTimeout(early, PEER_EXIT_GRACE_MS, undefined);
    throw error;
  });
  try {
    const hello = await Promise.race([read, limits.expired, early]);
    if (!HELLO_PAYLOAD.equals(hello)) {
      throw new IpcError(
        IpcErrorCode.PROTOCOL,
        `the child's first message on pipe ${index} is not the @ipc/pipe hello; start Node children that use openParentChannels() with forkWithPipes, others with spawnWithPipes`,
      );
    }
  } catch (error) {
    throw error instanceof IpcError ? error : toIpcError(error, "starting the child");
  } finally {
    reader.release();
    limits.release();
    early.catch(() => {});
    read.catch(() => {});
  }
}
