// `pnpm demo`: runs every example in turn, each in its own process, and says what it shows.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

interface Example {
  name: string;
  title: string;
}

const EXAMPLES: Example[] = [
  { name: "core-parent-child", title: "@ipc/core: a parent and its child talk over a socketpair" },
  { name: "core-python-peer", title: "@ipc/core: Node talks to Python's multiprocessing.connection" },
  {
    name: "pipe-program1",
    title: "@ipc/pipe: tutorial program 1, a child writes into a pipe after a delay",
  },
  {
    name: "pipe-program2",
    title: "@ipc/pipe: tutorial program 2, Pipe() one-way (sender) and two-way (talker)",
  },
  {
    name: "socket-server-clients",
    title: "@ipc/socket: tutorial program 3, a TCP server and 5 client processes at once",
  },
  {
    name: "fifo-two-processes",
    title: "@ipc/fifo: two independent processes talk over a pair of named pipes",
  },
  { name: "signal-parent-child", title: "@ipc/signal: a parent and a child coordinate with signals" },
  { name: "signal-graceful-service", title: "@ipc/signal: a service shuts down gracefully on SIGTERM" },
  {
    name: "shm-shared-memory",
    title: "@ipc/shm: shared values, an array and a lock between three processes",
  },
  { name: "shm-cluster-map", title: "@ipc/shm: cluster workers share a key-value map with counters" },
  { name: "shm-channel", title: "@ipc/shm: a parent and its child talk over a shared-memory channel" },
  {
    name: "queue-counters",
    title: "@ipc/queue: tutorial program 4, three Counter processes post to one queue, the parent polls it",
  },
  {
    name: "queue-work",
    title: "@ipc/queue: a work queue whose worker is killed mid-job; the job is delivered again",
  },
  {
    name: "queue-redis",
    title: "@ipc/queue/redis: producers and consumers in separate processes share one queue on Redis",
  },
];

const EXAMPLE_TIMEOUT_MS = 30_000;
// `pnpm demo` runs the compiled examples (dist/*.js) against the built packages; the sources run the same.
const extension = import.meta.url.endsWith(".ts") ? ".ts" : ".js";

function run(example: Example): Promise<number | null> {
  const path = fileURLToPath(new URL(`./${example.name}${extension}`, import.meta.url));
  const child = spawn(process.execPath, [...process.execArgv, path], { stdio: "inherit" });
  const timer = setTimeout(() => child.kill("SIGKILL"), EXAMPLE_TIMEOUT_MS);
  return new Promise((resolve) =>
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    }),
  );
}

let failures = 0;
for (const [index, example] of EXAMPLES.entries()) {
  console.log(`\n[${index + 1}/${EXAMPLES.length}] ${example.title}  (examples/src/${example.name}.ts)`);
  const code = await run(example);
  if (code !== 0) {
    failures += 1;
    console.log(`  !! exited with code ${code}`);
  }
}
console.log(`\n${EXAMPLES.length - failures} of ${EXAMPLES.length} examples ran successfully.`);
process.exitCode = failures === 0 ? 0 : 1;
