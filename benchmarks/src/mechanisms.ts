import type { ChildProcess } from "node:child_process";
import type { Socket } from "node:net";
import { bytes, type Channel, type Codec, createStreamChannel, json } from "@ipc/core";
import { channelLink, handWrittenSocketLink, type Link, processLink } from "./link.js";

/** What one side of a mechanism needs to build its {@link Link}. */
export interface Endpoint {
  socket?: Socket;
  channel?: Channel<unknown>;
  process?: ChildProcess | NodeJS.Process;
}

/** A way for two processes to talk, as benchmarked. */
export interface Mechanism {
  id: string;
  label: string;
  /** Messages are objects (`"object"`) or raw bytes (`"bytes"`). */
  payload: "object" | "bytes";
  /** How the peer is reached: Node's fork IPC channel, a socket, an @ipc transport. */
  transport:
    | "fork-json"
    | "fork-advanced"
    | "unix-socket"
    | "tcp-socket"
    | "ipc-pipe"
    | "ipc-socket-unix"
    | "ipc-socket-tcp"
    | "ipc-fifo"
    | "ipc-shm";
  /** The codec of @ipc mechanisms. */
  codec?: Codec<unknown>;
  link(endpoint: Endpoint): Link;
  /** Number of 1 MiB payloads for the bandwidth run, when the mechanism carries bytes at all. */
  bandwidthCount?: number;
  /** Number of 64 KiB payloads for the second bandwidth run, for the mechanisms compared on it. */
  chunkCount?: number;
  /** `spin` of @ipc/shm channels. */
  spin?: number;
}

export const MECHANISMS: Mechanism[] = [
  {
    id: "cp-json",
    label: "child_process IPC (json)",
    payload: "object",
    transport: "fork-json",
    link: ({ process }) => processLink(process!),
    bandwidthCount: 8,
  },
  {
    id: "cp-advanced",
    label: "child_process IPC (advanced)",
    payload: "object",
    transport: "fork-advanced",
    link: ({ process }) => processLink(process!),
    bandwidthCount: 200,
  },
  {
    id: "net-hand",
    label: "net Unix socket, hand-written framing",
    payload: "bytes",
    transport: "unix-socket",
    link: ({ socket }) => handWrittenSocketLink(socket!),
    bandwidthCount: 200,
    chunkCount: 8000,
  },
  {
    id: "net-hand-tcp",
    label: "net TCP loopback, hand-written framing",
    payload: "bytes",
    transport: "tcp-socket",
    link: ({ socket }) => handWrittenSocketLink(socket!),
    bandwidthCount: 200,
  },
  {
    id: "core-json",
    label: "@ipc/core stream channel (json)",
    payload: "object",
    transport: "unix-socket",
    codec: json,
    link: ({ socket }) => channelLink(createStreamChannel(socket!, { codec: json })),
  },
  {
    id: "core-bytes",
    label: "@ipc/core stream channel (bytes)",
    payload: "bytes",
    transport: "unix-socket",
    codec: bytes as Codec<unknown>,
    link: ({ socket }) => channelLink(createStreamChannel(socket!, { codec: bytes as Codec<unknown> })),
    bandwidthCount: 200,
  },
  {
    id: "pipe-json",
    label: "@ipc/pipe (json)",
    payload: "object",
    transport: "ipc-pipe",
    codec: json,
    link: ({ channel }) => channelLink(channel!),
    bandwidthCount: 8,
  },
  {
    id: "pipe-bytes",
    label: "@ipc/pipe (bytes)",
    payload: "bytes",
    transport: "ipc-pipe",
    codec: bytes as Codec<unknown>,
    link: ({ channel }) => channelLink(channel!),
    bandwidthCount: 200,
  },
  {
    id: "socket-unix-bytes",
    label: "@ipc/socket Unix (bytes)",
    payload: "bytes",
    transport: "ipc-socket-unix",
    codec: bytes as Codec<unknown>,
    link: ({ channel }) => channelLink(channel!),
    bandwidthCount: 200,
    chunkCount: 8000,
  },
  {
    id: "socket-tcp-bytes",
    label: "@ipc/socket TCP (bytes)",
    payload: "bytes",
    transport: "ipc-socket-tcp",
    codec: bytes as Codec<unknown>,
    link: ({ channel }) => channelLink(channel!),
    bandwidthCount: 200,
  },
  {
    id: "fifo-bytes",
    label: "@ipc/fifo pair (bytes)",
    payload: "bytes",
    transport: "ipc-fifo",
    codec: bytes as Codec<unknown>,
    link: ({ channel }) => channelLink(channel!),
    bandwidthCount: 200,
  },
  {
    id: "socket-tcp-json",
    label: "@ipc/socket TCP (json)",
    payload: "object",
    transport: "ipc-socket-tcp",
    codec: json,
    link: ({ channel }) => channelLink(channel!),
  },
  {
    id: "shm-bytes",
    label: "@ipc/shm channel (bytes)",
    payload: "bytes",
    transport: "ipc-shm",
    codec: bytes as Codec<unknown>,
    link: ({ channel }) => channelLink(channel!),
    bandwidthCount: 1000,
    chunkCount: 30000,
  },
  {
    id: "shm-bytes-spin",
    label: "@ipc/shm channel (bytes, spin 1 ms)",
    payload: "bytes",
    transport: "ipc-shm",
    codec: bytes as Codec<unknown>,
    spin: 1,
    link: ({ channel }) => channelLink(channel!),
    bandwidthCount: 1000,
    chunkCount: 30000,
  },
  {
    id: "shm-bytes-sleep",
    label: "@ipc/shm channel (bytes, no spin)",
    payload: "bytes",
    transport: "ipc-shm",
    codec: bytes as Codec<unknown>,
    spin: 0,
    link: ({ channel }) => channelLink(channel!),
    bandwidthCount: 1000,
    chunkCount: 30000,
  },
  {
    id: "shm-json",
    label: "@ipc/shm channel (json)",
    payload: "object",
    transport: "ipc-shm",
    codec: json,
    link: ({ channel }) => channelLink(channel!),
  },
];

/** The mechanism called `id`. */
export function mechanismById(id: string): Mechanism {
  const found = MECHANISMS.find((mechanism) => mechanism.id === id);
  if (!found) throw new Error(`unknown mechanism ${id}; known: ${MECHANISMS.map((m) => m.id).join(", ")}`);
  return found;
}

/** The small message of a mechanism: a small object, or 64 raw bytes. */
export function smallMessage(mechanism: Mechanism, i: number): unknown {
  if (mechanism.payload === "bytes") return SMALL_BYTES;
  return { id: i, kind: "small", values: [1, 2, 3], ok: true };
}

const SMALL_BYTES = new Uint8Array(64).fill(42);
