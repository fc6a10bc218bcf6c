// `pnpm demo`: runs every example in turn, each in its own process, and says what it shows.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

interface Example {
  file: string;
  title: string;
}

const EXAMPLES: Example[] = [
  { file: "core-parent-child.ts", title: "@ipc/core: a parent and its child talk over a socketpair" },
  { file: "core-python-peer.ts", title: "@ipc/core: Node talks to Python's multiprocessing.connection" },
  {
    file: "pipe-program1.ts",
    title: "@ipc/pipe: tutorial program 1, a child writes into a pipe after a delay",
  },
  {
    file: "pipe-program2.ts",
    title: "@ipc/pipe: tutorial program 2, Pipe() one-way (sender) and two-way (talker)",
  },
  {
    file: "socket-server-clients.ts",
    title: "@ipc/socket: tutorial program 3, a TCP server and 5 client processes at once",
  },
  {
    file: "fifo-two-processes.ts",
    title: "@ipc/fifo: two independent processes talk over a pair of named pipes",
  },
  { file: "signal-parent-child.ts", title: "@ipc/signal: a parent and a child coordinate with signals" },
  { file: "signal-graceful-service.ts", title: "@ipc/signal: a service shuts down gracefully on SIGTERM" },
  {
    file: "shm-shared-memory.ts",
    title: "@ipc/shm: shared values, an array and a lock between three processes",
  },
  { file: "shm-cluster-map.ts", title: "@ipc/shm: cluster workers share a key-value map with counters" },
  { file: "shm-channel.ts", title: "@ipc/shm: a parent and its child talk over a shared-memory channel" },
];

const EXAMPLE_TIMEOUT_MS = 30_000;

function run(example: Example): Promise<number | null> {
  const path = fileURLToPath(new URL(`./${example.file}`, import.meta.url));
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
  console.log(`\n[${index + 1}/${EXAMPLES.length}] ${example.title}  (examples/src/${example.file})`);
  const code = await run(example);
  if (code !== 0) {
    failures += 1;
    console.log(`  !! exited with code ${code}`);
  }
}
console.log(`\n${EXAMPLES.length - failures} of ${EXAMPLES.length} examples ran successfully.`);
process.exitCode = failures === 0 ? 0 : 1;
