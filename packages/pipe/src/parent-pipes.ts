import { fstatSync } from "node:fs";
import { Socket } from "node:net";
import {
  type Channel,
  type ChannelOptions,
  type Codec,
  createStreamChannel,
  DirectReads,
  IpcError,
} from "@ipc/core";
import { encodeFrameHeader } from "@ipc/core/transport";
import { PipeErrorCode } from "./errors.js";
import { HELLO_PAYLOAD } from "./hello.js";
import { builtInCodec, type ChildPipeEntry, decodePipesEnv, HELLO_ENV, PIPES_ENV } from "./pipe-spec.js";

/** Options for {@link openParentChannels}: the child ends' channel options (`codec` is the parent's), and more. */
export interface OpenParentChannelsOptions extends Omit<ChannelOptions<unknown>, "codec"> {
  /** Codecs by pipe index, for pipes whose parent uses a codec that is not built in (msgpack, custom). */
  codecs?: readonly (Codec<unknown> | undefined)[];
}

/** Options for {@link openParentChannel}. */
export interface OpenParentChannelOptions extends OpenParentChannelsOptions {}

/** The pipes from the parent, opened once per process. */
interface OpenedPipes {
  entries: ChildPipeEntry[];
  sockets: Socket[];
  channels: (Channel<unknown> | undefined)[];
}

// A descriptor can be read by one reader only: every copy of this package a process loads (its ES module
// and CommonJS builds, say) must hand out the same channels, so they are kept on `globalThis`.
const OPENED = Symbol.for("@ipc/pipe.parentPipes.v1");
const registry = globalThis as Record<symbol, OpenedPipes | undefined>;

/**
 * In a child started with pipes: the channels to the parent, in order (undefined for raw pipes). Opens
 * each pipe once; later calls return the same channels. The channels end when the parent closes its
 * side or dies.
 * @throws `ERR_IPC_PIPE_NO_PARENT`, `ERR_IPC_PIPE_NOT_A_PIPE`, `ERR_IPC_INVALID_ARGUMENT` (unknown codec)
 */
export function openParentChannels(
  options: OpenParentChannelsOptions = {},
): (Channel<unknown> | undefined)[] {
  const known = registry[OPENED];
  if (known) return known.channels;
  const entries = decodePipesEnv(process.env[PIPES_ENV]);
  for (const entry of entries) checkIsPipe(entry.fd);
  // A channel's pipe is read straight into the messages it carries; a raw pipe stays a plain stream.
  const reads = entries.map((entry) =>
    entry.codec === "raw" || entry.direction === "send" ? undefined : new DirectReads(),
  );
  const sockets = entries.map(
    (entry, index) =>
      new Socket({
        fd: entry.fd,
        readable: entry.direction !== "send",
        writable: entry.direction !== "receive",
        ...(reads[index] === undefined ? {} : { onread: reads[index].onread }),
      }),
  );
  if (process.env[HELLO_ENV] === "1") {
    const index = entries.findIndex((entry) => entry.direction !== "receive" && entry.codec !== "raw");
    if (index >= 0)
      sockets[index]!.write(Buffer.concat([encodeFrameHeader(HELLO_PAYLOAD.length), HELLO_PAYLOAD]));
  }
  const channels = entries.map((entry, index) => {
    if (entry.codec === "raw") return undefined;
    const codec = options.codecs?.[index] ?? builtInCodec(entry.codec);
    if (codec === undefined) {
      throw new IpcError(
        "ERR_IPC_INVALID_ARGUMENT",
        `pipe ${index} uses a codec that is not built in (${entry.codec}); pass it in options.codecs[${index}]`,
      );
    }
    return createStreamChannel(sockets[index]!, {
      codec,
      direction: entry.direction,
      directReads: reads[index],
      maxFrameSize: options.maxFrameSize,
      receiveHighWaterMark: options.receiveHighWaterMark,
    });
  });
  registry[OPENED] = { entries, sockets, channels };
  return channels;
}

/** In a child started with pipes: the channel of pipe `index` (see {@link openParentChannels}). */
export function openParentChannel<T = unknown>(
  index = 0,
  options: OpenParentChannelOptions = {},
): Channel<T> {
  const channel = openParentChannels(options)[index];
  if (channel === undefined) {
    throw new IpcError(
      "ERR_IPC_INVALID_ARGUMENT",
      `there is no message pipe ${index} from the parent (it has ${registry[OPENED]?.entries.length ?? 0} pipe(s); raw pipes are read with openParentStream)`,
    );
  }
  return channel as Channel<T>;
}

/** In a child started with pipes: the raw byte stream of pipe `index`, opened by the parent with `raw: true`. */
export function openParentStream(index = 0): Socket {
  openParentChannels();
  const opened = registry[OPENED]!;
  const socket = opened.sockets[index];
  if (socket === undefined || opened.entries[index]!.codec !== "raw") {
    throw new IpcError("ERR_IPC_INVALID_ARGUMENT", `pipe ${index} from the parent is not a raw pipe`);
  }
  return socket;
}

/** @throws `ERR_IPC_PIPE_NOT_A_PIPE` unless `fd` is an open pipe or socket */
function checkIsPipe(fd: number): void {
  let kind: string;
  try {
    const stat = fstatSync(fd);
    if (stat.isSocket() || stat.isFIFO()) return;
    kind = stat.isFile() ? "a regular file" : stat.isCharacterDevice() ? "a character device" : "not a pipe";
  } catch (error) {
    throw new IpcError(
      PipeErrorCode.NOT_A_PIPE,
      `descriptor ${fd} named in ${PIPES_ENV} is not open in this process; was it started by spawnWithPipes?`,
      { cause: error, errno: (error as NodeJS.ErrnoException).code ?? "EBADF", syscall: "fstat" },
    );
  }
  throw new IpcError(
    PipeErrorCode.NOT_A_PIPE,
    `descriptor ${fd} named in ${PIPES_ENV} is ${kind}, not a pipe; ${PIPES_ENV} must come from spawnWithPipes`,
  );
}
