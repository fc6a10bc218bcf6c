import type { ChildProcess } from "node:child_process";
import type { Socket } from "node:net";
import { bytes, type Channel, type Codec, json } from "@ipc/core";
import {
  channelLink,
  handWrittenSocketLink,
  type Link,
  type PollingChannel,
  pollingChannelLink,
  processLink,
} from "./link.js";

/** What one side of a mechanism needs to build its {@link Link}. */
export interface Endpoint {
  socket?: Socket;
  channel?: Channel<unknown>;
  process?: ChildProcess | NodeJS.Process;
  /** A library's own connection object (zeromq, node-ipc). */
  external?: Link;
}

/** How the two processes of a mechanism find each other. */
export type Transport =
  | "fork-json"
  | "fork-advanced"
  | "unix-socket"
  | "tcp-socket"
  | "ipc-pipe"
  | "ipc-socket-unix"
  | "ipc-socket-tcp"
  | "ipc-fifo"
  | "ipc-shm"
  | "zeromq"
  | "node-ipc";

/** A way for two processes to talk, as benchmarked. */
export interface Mechanism {
  id: string;
  label: string;
  /** Messages are small objects (`"object"`, sent as JSON or structured clone) or raw bytes (`"bytes"`). */
  payload: "object" | "bytes";
  transport: Transport;
  /** The codec of @ipc mechanisms. */
  codec?: Codec<unknown>;
  /** `spin` of @ipc/shm channels (ms). */
  spin?: number;
  link(endpoint: Endpoint): Link;
  /**
   * The fairest baseline: a hand-written socket with the same payload and codec, batching a tick's writes
   * as our channels do (for @ipc rows), or the row itself (for baselines). Ratios are to it.
   */
  baseline: string;
  /** Also measured with 1 MiB messages. */
  large?: boolean;
  /** Also measured as request/response with a handler that takes 50 µs. */
  handler?: boolean;
  /** One-way small-message counts are scaled by this for slow mechanisms (keeps the run near a minute). */
  smallScale?: number;
}

const bytesCodec = bytes as Codec<unknown>;
const viaChannel = ({ channel }: Endpoint) => channelLink(channel!);
const viaPolling = ({ channel }: Endpoint) => pollingChannelLink(channel as unknown as PollingChannel);

// The baselines are written as a competent user writes them (see handWrittenSocketLink): a 4-byte length
// prefix; a receiver that copies each frame at most once; a sender that writes each message at once
// ("naive", what most hand-written code does) or batches the writes of one tick with cork()/uncork()
// (five more lines, and what our channels do, so the fair comparison for them).
export const MECHANISMS: Mechanism[] = [
  {
    id: "net-naive",
    label: "net Unix socket, hand-written, a write per message (bytes)",
    payload: "bytes",
    transport: "unix-socket",
    link: ({ socket }) => handWrittenSocketLink(socket!, { cork: false, codec: "bytes" }),
    baseline: "net-cork",
    large: true,
  },
  {
    id: "net-cork",
    label: "net Unix socket, hand-written, writes corked per tick (bytes)",
    payload: "bytes",
    transport: "unix-socket",
    link: ({ socket }) => handWrittenSocketLink(socket!, { cork: true, codec: "bytes" }),
    baseline: "net-cork",
    large: true,
    handler: true,
  },
  {
    id: "net-cork-json",
    label: "net Unix socket, hand-written, corked (JSON)",
    payload: "object",
    transport: "unix-socket",
    link: ({ socket }) => handWrittenSocketLink(socket!, { cork: true, codec: "json" }),
    baseline: "net-cork-json",
  },
  {
    id: "net-cork-tcp",
    label: "net TCP loopback, hand-written, corked (bytes)",
    payload: "bytes",
    transport: "tcp-socket",
    link: ({ socket }) => handWrittenSocketLink(socket!, { cork: true, codec: "bytes" }),
    baseline: "net-cork-tcp",
    large: true,
  },
  {
    id: "cp-json",
    label: "child_process IPC (json)",
    payload: "object",
    transport: "fork-json",
    link: ({ process }) => processLink(process!),
    baseline: "net-cork-json",
    smallScale: 0.3,
  },
  {
    id: "cp-advanced",
    label: "child_process IPC (advanced)",
    payload: "object",
    transport: "fork-advanced",
    link: ({ process }) => processLink(process!),
    baseline: "net-cork-json",
    smallScale: 0.2,
  },
  {
    id: "pipe-bytes",
    label: "@ipc/pipe (bytes)",
    payload: "bytes",
    transport: "ipc-pipe",
    codec: bytesCodec,
    link: viaChannel,
    baseline: "net-cork",
    large: true,
    handler: true,
  },
  {
    id: "pipe-json",
    label: "@ipc/pipe (json)",
    payload: "object",
    transport: "ipc-pipe",
    codec: json,
    link: viaChannel,
    baseline: "net-cork-json",
  },
  {
    id: "socket-unix-bytes",
    label: "@ipc/socket Unix (bytes)",
    payload: "bytes",
    transport: "ipc-socket-unix",
    codec: bytesCodec,
    link: viaChannel,
    baseline: "net-cork",
    large: true,
    handler: true,
  },
  {
    id: "socket-unix-json",
    label: "@ipc/socket Unix (json)",
    payload: "object",
    transport: "ipc-socket-unix",
    codec: json,
    link: viaChannel,
    baseline: "net-cork-json",
  },
  {
    id: "socket-tcp-bytes",
    label: "@ipc/socket TCP (bytes)",
    payload: "bytes",
    transport: "ipc-socket-tcp",
    codec: bytesCodec,
    link: viaChannel,
    baseline: "net-cork-tcp",
    large: true,
  },
  {
    id: "fifo-bytes",
    label: "@ipc/fifo pair (bytes)",
    payload: "bytes",
    transport: "ipc-fifo",
    codec: bytesCodec,
    link: viaChannel,
    baseline: "net-cork",
    large: true,
  },
  {
    id: "shm-bytes",
    label: "@ipc/shm channel, default (bytes)",
    payload: "bytes",
    transport: "ipc-shm",
    codec: bytesCodec,
    link: viaChannel,
    baseline: "net-cork",
    large: true,
    handler: true,
  },
  {
    id: "shm-bytes-spin",
    label: "@ipc/shm channel, spin 1 ms (bytes)",
    payload: "bytes",
    transport: "ipc-shm",
    codec: bytesCodec,
    spin: 1,
    link: viaChannel,
    baseline: "net-cork",
    large: true,
    handler: true,
  },
  {
    id: "shm-bytes-sleep",
    label: "@ipc/shm channel, no spin (bytes)",
    payload: "bytes",
    transport: "ipc-shm",
    codec: bytesCodec,
    spin: 0,
    link: viaChannel,
    baseline: "net-cork",
    handler: true,
  },
  {
    id: "shm-bytes-poll",
    label: "@ipc/shm channel, polled: trySend/tryReceive, waits after 2 ms (bytes)",
    payload: "bytes",
    transport: "ipc-shm",
    codec: bytesCodec,
    link: viaPolling,
    baseline: "net-cork",
  },
  {
    id: "shm-json",
    label: "@ipc/shm channel, default (json)",
    payload: "object",
    transport: "ipc-shm",
    codec: json,
    link: viaChannel,
    baseline: "net-cork-json",
  },
  {
    id: "zeromq",
    label: "zeromq 6.8 PAIR over ipc:// (bytes)",
    payload: "bytes",
    transport: "zeromq",
    link: ({ external }) => external!,
    baseline: "net-cork",
    large: true,
    // 45,000 small messages: with 240,000 (warm-up and timed) in a row both processes went idle
    // with messages still unreceived, in one run on this machine (not investigated: a zeromq or zeromq.js stall).
    smallScale: 0.3,
  },
  {
    id: "node-ipc",
    label: "node-ipc 9.2.1 Unix socket (its JSON)",
    payload: "object",
    transport: "node-ipc",
    link: ({ external }) => external!,
    baseline: "net-cork-json",
    smallScale: 0.2,
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

/** The message that ends a round-trip warm-up: 2 bytes, or `{ marker: true }`. */
export function markerMessage(mechanism: Mechanism): unknown {
  return mechanism.payload === "bytes" ? new Uint8Array([0xff, 0xfe]) : { marker: true };
}

/** True for {@link markerMessage}'s message, as it arrives. */
export function isMarker(mechanism: Mechanism, message: unknown): boolean {
  return mechanism.payload === "bytes"
    ? (message as Uint8Array).byteLength === 2
    : (message as { marker?: unknown }).marker === true;
}
