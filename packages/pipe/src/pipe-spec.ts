import {
  bytes,
  type ChannelDirection,
  type ChannelOptions,
  type Codec,
  IpcError,
  IpcErrorCode,
  json,
  v8,
} from "@ipc/core";
import { PipeErrorCode } from "./errors.js";

/** One pipe to a child, as the parent asks for it: the channel options of its parent end, and more. */
export interface PipeOptions extends ChannelOptions<unknown> {
  /** Seen from the parent: `"send"` means parent → child only. @default "duplex" */
  direction?: ChannelDirection;
  /** Give the raw byte stream for this pipe instead of a message channel. @default false */
  raw?: boolean;
}

/** Environment variable listing the child's pipes: `fd:direction:codec` entries (child's view), comma-separated. */
export const PIPES_ENV = "IPC_PIPES";
/** Environment variable with the first pipe's descriptor number alone, for children in any language. */
export const FIRST_PIPE_FD_ENV = "IPC_PIPE_FD";
/** Environment variable set when the parent waits for the child's hello (Node children from `forkWithPipes`). */
export const HELLO_ENV = "IPC_PIPE_HELLO";
/** Descriptor of the first pipe in a child: 0-2 are stdin, stdout and stderr. */
export const FIRST_PIPE_FD = 3;

const BUILT_IN_CODECS: Record<string, Codec<unknown>> = { json, v8, bytes: bytes as Codec<unknown> };

/** One entry of `IPC_PIPES`, from the child's point of view. */
export interface ChildPipeEntry {
  fd: number;
  direction: ChannelDirection;
  /** Name of the codec the parent uses (`json`, `v8`, `bytes`, `raw`, or `custom`). */
  codec: string;
}

/** The direction the other end of a pipe has. */
export function mirror(direction: ChannelDirection): ChannelDirection {
  return direction === "send" ? "receive" : direction === "receive" ? "send" : "duplex";
}

/** A pipe's options with the defaults filled in. */
export type NormalizedPipe = PipeOptions & { direction: ChannelDirection; raw: boolean };

/** Throws `ERR_IPC_INVALID_ARGUMENT` for a malformed pipe list; returns it with defaults filled in. */
export function normalizePipes(pipes: readonly PipeOptions[] | undefined): NormalizedPipe[] {
  const list = pipes ?? [{}];
  if (!Array.isArray(list) || list.length === 0) {
    throw new IpcError(IpcErrorCode.INVALID_ARGUMENT, "pipes must be a non-empty array of pipe options");
  }
  return list.map((pipe, index) => {
    const direction = pipe.direction ?? "duplex";
    if (!["duplex", "send", "receive"].includes(direction)) {
      throw new IpcError(
        IpcErrorCode.INVALID_ARGUMENT,
        `pipes[${index}].direction must be "duplex", "send" or "receive", got ${String(direction)}`,
      );
    }
    return { ...pipe, direction, raw: pipe.raw ?? false };
  });
}

/** The `IPC_PIPES` value for `pipes` (parent's view in, child's view out). */
export function encodePipesEnv(pipes: readonly (PipeOptions & { direction: ChannelDirection })[]): string {
  return pipes
    .map((pipe, index) => {
      const codec = pipe.raw ? "raw" : (pipe.codec?.name ?? "json");
      const known = codec === "raw" || BUILT_IN_CODECS[codec] === (pipe.codec ?? json);
      return `${FIRST_PIPE_FD + index}:${mirror(pipe.direction)}:${known ? codec : "custom"}`;
    })
    .join(",");
}

/** Parses `IPC_PIPES`. @throws `ERR_IPC_PIPE_NO_PARENT` when it is missing or malformed */
export function decodePipesEnv(value: string | undefined): ChildPipeEntry[] {
  if (value === undefined || value === "") {
    throw new IpcError(
      PipeErrorCode.NO_PARENT,
      `${PIPES_ENV} is not set: this process was not started by spawnWithPipes/forkWithPipes, so it has no pipes to its parent`,
    );
  }
  return value.split(",").map((entry) => {
    const [fdText, direction, codec] = entry.split(":");
    const fd = Number(fdText);
    if (
      !Number.isInteger(fd) ||
      fd < 0 ||
      !["duplex", "send", "receive"].includes(direction ?? "") ||
      !codec
    ) {
      throw new IpcError(
        PipeErrorCode.NO_PARENT,
        `${PIPES_ENV} has a malformed entry "${entry}" (expected fd:direction:codec, e.g. 3:duplex:json)`,
      );
    }
    return { fd, direction: direction as ChannelDirection, codec };
  });
}

/** The built-in codec called `name`, if there is one. */
export function builtInCodec(name: string): Codec<unknown> | undefined {
  return BUILT_IN_CODECS[name];
}
