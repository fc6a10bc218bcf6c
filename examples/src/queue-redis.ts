// One queue on Redis shared by separate processes, as it would be by several machines: two producers put
// jobs (each with an idempotency key, so a retried put is applied once), two consumers lease and ack them,
// and the parent's join() returns when every job is done. Each process has its own connection.
//
// It uses the Redis at REDIS_URL, or starts a throwaway redis-server (Debian: apt-get install
// redis-server) in a temp directory; with neither, it says so and skips.
import { type ChildProcess, fork, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRedisJoinableQueue, openRedisQueue, unlinkRedisQueue } from "@ipc/queue/redis";

async function produce(url: string, queue: string, name: string): Promise<void> {
  const jobs = await openRedisQueue<string>(queue, { url });
  for (let i = 1; i <= 4; i++) {
    const job = `${name} job ${i}`;
    await jobs.put(job, { idempotencyKey: job });
    await jobs.put(job, { idempotencyKey: job }); // a retry: not enqueued twice
  }
  await jobs.close();
}

async function consume(url: string, queue: string, name: string): Promise<void> {
  const jobs = await openRedisQueue<string>(queue, { url });
  for (;;) {
    const lease = await jobs.lease();
    if (lease.value === "stop") {
      await lease.ack();
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 20)); // the work
    await lease.ack();
    console.log(`  ${name} (pid ${process.pid}) did "${lease.value}"`);
  }
  await jobs.close();
}

/** A redis-server of our own, on a Unix socket in a temp directory. */
async function startRedis(): Promise<{ url: string; stop(): void } | undefined> {
  const binary = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].find((path) => existsSync(path));
  if (binary === undefined) return undefined;
  const dir = mkdtempSync(join(tmpdir(), "ipc-demo-redis-"));
  const socket = join(dir, "redis.sock");
  const server: ChildProcess = spawn(
    binary,
    [
      "--port",
      "0",
      "--unixsocket",
      socket,
      "--unixsocketperm",
      "700",
      "--dir",
      dir,
      "--save",
      "",
      "--appendonly",
      "no",
    ],
    { stdio: "ignore" },
  );
  for (let waited = 0; !existsSync(socket); waited += 20) {
    if (waited > 10_000 || server.exitCode !== null) throw new Error("redis-server did not start");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    url: `unix://${socket}`,
    stop() {
      server.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const [role, url, queue, name] = process.argv.slice(2);
if (role === "producer") await produce(url!, queue!, name!);
else if (role === "consumer") await consume(url!, queue!, name!);
else {
  const own = process.env.REDIS_URL === undefined ? await startRedis() : undefined;
  const target = process.env.REDIS_URL ?? own?.url;
  if (target === undefined) {
    console.log("  skipped: no redis-server here (apt-get install redis-server, or set REDIS_URL)");
  } else {
    try {
      const queue = `demo-jobs-${process.pid}`;
      const jobs = await createRedisJoinableQueue<string>(queue, { url: target, leaseTimeout: 5000 });
      const start = (role: string, name: string) =>
        fork(process.argv[1]!, [role, target, queue, name], { execArgv: process.execArgv });
      const exited = (child: ChildProcess) =>
        new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once("exit", resolve)));
      const consumers = [start("consumer", "consumer A"), start("consumer", "consumer B")];
      await Promise.all([start("producer", "producer 1"), start("producer", "producer 2")].map(exited));
      await jobs.join({ timeout: 20_000 }); // every job put (8: the retries were not enqueued) is done
      console.log(
        `  join returned: ${await jobs.unfinishedTasks()} unfinished, ${await jobs.qsize()} queued`,
      );
      await jobs.put("stop");
      await jobs.put("stop");
      await Promise.all(consumers.map(exited));
      await jobs.close();
      await unlinkRedisQueue(queue, { url: target });
    } finally {
      own?.stop();
    }
  }
}
