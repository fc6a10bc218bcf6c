import { IpcError } from "@ipc/core";
import { SocketErrorCode } from "./errors.js";

/** A parsed address: where a listener binds or a client connects. */
export type SocketAddress =
  | { kind: "unix"; path: string }
  | { kind: "abstract"; name: string }
  | { kind: "tcp" | "tls"; host: string; port: number }
  | { kind: "windows-pipe"; path: string };

/** Longest Unix socket path in bytes (sun_path less its terminating NUL): 103 on macOS/BSD, 107 elsewhere. */
export const MAX_UNIX_PATH_BYTES =
  process.platform === "darwin" || process.platform.endsWith("bsd") ? 103 : 107;

const FORMS =
  'a Unix path ("/run/app.sock", "./app.sock", "unix:app.sock"), a Linux abstract name ("@app"), ' +
  'TCP ("tcp://127.0.0.1:9000", "localhost:9000", "[::1]:9000", ":0" for any free port) or TLS ("tls://host:9000")';

/**
 * Parses the one address syntax of @ipc/socket. Plain strings with a "/" (or starting with ".") are Unix
 * paths, "@name" is a Linux abstract socket, "host:port" is TCP; "unix:", "tcp://", "tls://" prefixes
 * are explicit. Windows named-pipe paths (`\\.\pipe\name`) pass through to Node's `net`.
 * @throws `ERR_IPC_SOCKET_ADDRESS`, `ERR_IPC_SOCKET_PATH_TOO_LONG`
 */
export function parseAddress(address: string): SocketAddress {
  if (typeof address !== "string" || address.length === 0) {
    throw new IpcError(SocketErrorCode.ADDRESS, `an address must be a non-empty string: ${FORMS}`);
  }
  if (address.startsWith("\\\\.\\pipe\\") || address.startsWith("\\\\?\\pipe\\")) {
    return { kind: "windows-pipe", path: address };
  }
  if (address.startsWith("unix:")) return unixAddress(address.slice("unix:".length), address);
  if (address.startsWith("@")) return abstractAddress(address.slice(1), address);
  for (const kind of ["tcp", "tls"] as const) {
    if (address.startsWith(`${kind}://`)) return hostPort(kind, address.slice(kind.length + 3), address);
  }
  if (address.includes("/") || address.startsWith(".")) return unixAddress(address, address);
  return hostPort("tcp", address, address);
}

/** The address in the syntax {@link parseAddress} reads. */
export function formatAddress(address: SocketAddress): string {
  switch (address.kind) {
    case "unix":
    case "windows-pipe":
      return address.path;
    case "abstract":
      return `@${address.name}`;
    default:
      return `${address.kind}://${address.host.includes(":") ? `[${address.host}]` : address.host}:${address.port}`;
  }
}

/** What Node's `net` takes as a path for a Unix, abstract or Windows-pipe address. */
export function nodePath(address: SocketAddress): string | undefined {
  if (address.kind === "unix" || address.kind === "windows-pipe") return address.path;
  if (address.kind === "abstract") return `\0${address.name}`;
  return undefined;
}

function unixAddress(path: string, original: string): SocketAddress {
  if (path.length === 0)
    throw new IpcError(SocketErrorCode.ADDRESS, `"${original}" has an empty path: ${FORMS}`);
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_UNIX_PATH_BYTES) {
    throw new IpcError(
      SocketErrorCode.PATH_TOO_LONG,
      `the Unix socket path "${path}" is ${bytes} bytes, over the limit of ${MAX_UNIX_PATH_BYTES}; use a shorter directory (such as $XDG_RUNTIME_DIR or /tmp), a relative path, or an abstract name ("@name") on Linux`,
      { path },
    );
  }
  return { kind: "unix", path };
}

function abstractAddress(name: string, original: string): SocketAddress {
  if (process.platform !== "linux") {
    throw new IpcError(SocketErrorCode.ADDRESS, `"${original}": abstract socket names exist on Linux only`);
  }
  if (name.length === 0 || Buffer.byteLength(name) > MAX_UNIX_PATH_BYTES - 1) {
    throw new IpcError(
      SocketErrorCode.ADDRESS,
      `"${original}": an abstract name needs 1 to ${MAX_UNIX_PATH_BYTES - 1} bytes`,
    );
  }
  return { kind: "abstract", name };
}

function hostPort(kind: "tcp" | "tls", text: string, original: string): SocketAddress {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text) ?? /^()()(\d{1,5})$/.exec(text);
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || port > 65535) {
    throw new IpcError(SocketErrorCode.ADDRESS, `cannot read "${original}" as an address: ${FORMS}`);
  }
  const host = match[1] ?? (match[2] === "" || match[2] === undefined ? "127.0.0.1" : match[2]);
  return { kind, host, port };
}
