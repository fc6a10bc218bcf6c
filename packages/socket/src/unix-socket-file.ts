import { lstat, unlink } from "node:fs/promises";
import { connect, type Server } from "node:net";
import { IpcError } from "@ipc/core";
import { SocketErrorCode } from "./errors.js";

/** Mode of a socket file this package creates: reachable by its owner only. */
export const DEFAULT_SOCKET_MODE = 0o600;
/** Milliseconds to wait for a live server to answer the stale-socket probe. */
const PROBE_TIMEOUT_MS = 1_000;

/**
 * Binds `server` to the Unix socket `path`, created with `mode` from the start (through the umask, so
 * there is no moment when others may connect), reclaiming a stale socket file left by a dead server.
 * @throws `ERR_IPC_SOCKET_IN_USE` when a live server answers at `path` or it is not a socket
 */
export async function listenOnUnixPath(
  server: Server,
  path: string,
  mode: number,
  backlog: number,
): Promise<void> {
  try {
    await listenWithMode(server, path, mode, backlog);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
    await reclaimIfStale(path);
    await listenWithMode(server, path, mode, backlog);
  }
}

function listenWithMode(server: Server, path: string, mode: number, backlog: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      server.off("listening", onListening);
      reject(error);
    };
    const onListening = () => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    let previous: number | undefined;
    try {
      // bind() happens synchronously inside listen(): the file is born with `mode`. Worker threads may
      // not change the umask; there the mode is set right after bind instead (documented).
      previous = process.umask(~mode & 0o777);
    } catch {
      previous = undefined;
    }
    try {
      server.listen({ path, backlog });
    } finally {
      if (previous !== undefined) process.umask(previous);
    }
    if (previous === undefined) {
      server.once("listening", () => {
        void import("node:fs/promises").then(({ chmod }) => chmod(path, mode));
      });
    }
  });
}

/** Removes `path` if it is a socket no server answers on. @throws `ERR_IPC_SOCKET_IN_USE` otherwise */
async function reclaimIfStale(path: string): Promise<void> {
  const stat = await lstat(path).catch(() => undefined);
  if (stat === undefined) return; // Gone meanwhile: just bind again.
  if (!stat.isSocket()) {
    throw new IpcError(
      SocketErrorCode.IN_USE,
      `${path} exists and is not a socket; refusing to replace it. Choose another path or remove it yourself`,
      { errno: "EADDRINUSE", syscall: "bind", path },
    );
  }
  // Another user's socket file is theirs, live or not: never remove it, and never mistake it for ours.
  const me = process.geteuid?.();
  if (me !== undefined && stat.uid !== me) {
    throw new IpcError(
      SocketErrorCode.IN_USE,
      `${path} is a socket file that belongs to user ${stat.uid}, not to this process's user (${me}); refusing to replace it. Choose another path, or have its owner remove it`,
      { errno: "EADDRINUSE", syscall: "bind", path },
    );
  }
  if (await answers(path)) {
    throw new IpcError(
      SocketErrorCode.IN_USE,
      `a server is already listening on ${path}; stop it or choose another path`,
      { errno: "EADDRINUSE", syscall: "bind", path },
    );
  }
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw error;
  });
}

/** True when a server accepts a connection at `path` (the probe connection is closed at once). */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    const done = (alive: boolean) => {
      clearTimeout(timer);
      probe.destroy();
      resolve(alive);
    };
    // A server too busy to accept within the timeout is still alive: never steal its path.
    const timer = setTimeout(() => done(true), PROBE_TIMEOUT_MS);
    probe.once("connect", () => done(true));
    probe.once("error", (error: NodeJS.ErrnoException) =>
      done(error.code !== "ECONNREFUSED" && error.code !== "ENOENT"),
    );
  });
}
