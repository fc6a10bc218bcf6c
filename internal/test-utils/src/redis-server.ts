import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

// A real redis-server for the Redis queue's tests: started in a private temp directory, listening on a
// Unix socket and a free TCP port on 127.0.0.1, without persistence unless asked, and stopped after.

const CANDIDATES = ["/usr/bin/redis-server", "/usr/sbin/redis-server", "/usr/local/bin/redis-server"];

/** The redis-server binary on this machine, or undefined. With IPC_REQUIRE_REDIS=1 a missing one throws. */
export function findRedisServer(): string | undefined {
  const dirs = (process.env.PATH ?? "").split(":").filter(Boolean);
  for (const path of [...dirs.map((dir) => join(dir, "redis-server")), ...CANDIDATES]) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // Not here.
    }
  }
  if (process.env.IPC_REQUIRE_REDIS === "1") {
    throw new Error("IPC_REQUIRE_REDIS=1 but no redis-server was found: apt-get install redis-server");
  }
  return undefined;
}

/** Options of {@link startRedisServer}. */
export interface RedisServerOptions {
  /** "aof": append-only file, fsync on every write (the durability test); "none": nothing on disk. @default "none" */
  persistence?: "none" | "aof";
}

/** A running redis-server. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** The Unix socket, as a node-redis URL. */
  readonly socketUrl: string;
  readonly port: number;
  readonly pid: number;
  /** SIGKILLs the server (as a crash would) and resolves once it is gone; its files stay. */
  kill(): Promise<void>;
  /** Starts the server again on the same port, socket and files (after `kill`). */
  restart(): Promise<void>;
  /** Stops the server and removes its files. */
  stop(): Promise<void>;
}

const running = new Set<RedisServer>();

/** Stops every server a test started and did not stop (the leak check calls it); how many there were. */
export async function stopRedisServers(): Promise<number> {
  const left = [...running];
  for (const server of left) await server.stop();
  return left.length;
}

/** Starts a redis-server; it is stopped by `stop()` (or by the leak check after the file, which then fails it). */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const binary = findRedisServer();
  if (binary === undefined) throw new Error("no redis-server on this machine: apt-get install redis-server");
  const dir = mkdtempSync(join(tmpdir(), "ipc-redis-"));
  const port = await freePort();
  const socket = join(dir, "redis.sock");
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--unixsocket",
    socket,
    "--unixsocketperm",
    "700",
    "--dir",
    dir,
    "--save",
    "",
    "--daemonize",
    "no",
    "--protected-mode",
    "yes",
    "--loglevel",
    "notice",
    ...(options.persistence === "aof"
      ? ["--appendonly", "yes", "--appendfsync", "always"]
      : ["--appendonly", "no"]),
  ];
  let child: ChildProcess = await launch(binary, args, socket);
  const gone = (process: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (process.exitCode !== null || process.signalCode !== null) return resolve();
      process.once("exit", () => resolve());
    });
  const server: RedisServer = {
    url: `redis://127.0.0.1:${port}`,
    socketUrl: `unix://${socket}`,
    port,
    get pid() {
      return child.pid ?? -1;
    },
    async kill() {
      child.kill("SIGKILL");
      await gone(child);
    },
    async restart() {
      child = await launch(binary, args, socket);
    },
    async stop() {
      running.delete(server);
      child.kill("SIGKILL");
      await gone(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  running.add(server);
  return server;
}

async function launch(binary: string, args: string[], socket: string): Promise<ChildProcess> {
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  child.once("exit", () => process.removeListener("exit", killOnExit));
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk));
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited at start:\n${output}`);
    if (output.includes("Ready to accept connections")) {
      child.stdout!.resume();
      return child;
    }
    if (Date.now() - started > 10_000) {
      child.kill("SIGKILL");
      throw new Error(`redis-server did not start within 10 s (socket ${socket}):\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}
