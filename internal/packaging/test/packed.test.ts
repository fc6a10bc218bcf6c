// What a user installs: every package packed from a clean build (each `pnpm pack` runs its `prepack`,
// which builds it), installed with npm into an empty project, then loaded as CommonJS and as an ES module,
// and both at once in one process (an ESM app with a CommonJS dependency). Also the pnpm consumer that
// refuses @ipc/shm's build script and gets the prebuilt binary.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTempDir } from "@ipc-internal/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const PACKAGES = ["core", "pipe", "fifo", "socket", "signal", "shm", "queue"];
/** What the smoke programs print: one line per package, then the Redis entry without its optional peer. */
const SMOKE_OUTPUT = [...PACKAGES.map((name) => `ok ${name}`), "ok queue/redis without @redis/client"].join(
  "\n",
);
let workDir = "";
let project = "";
let tarballs: string[] = [];

/** pnpm, as the test runner was started (pnpm sets npm_execpath for scripts), else from PATH. */
function pnpm(args: string[], cwd: string): string {
  const script = process.env.npm_execpath;
  let [command, prefix]: [string, string[]] = ["pnpm", []];
  if (script?.includes("pnpm"))
    [command, prefix] = /\.[cm]?js$/.test(script) ? [process.execPath, [script]] : [script, []];
  return execFileSync(command, [...prefix, ...args], {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}

function run(file: string, args: string[] = [], cwd = project): string {
  return execFileSync(process.execPath, [file, ...args], { cwd, encoding: "utf8", timeout: 60_000 }).trim();
}

beforeAll(() => {
  // Kept for the whole file (createTempDir's directories are removed after each test).
  const dir = (workDir = mkdtempSync(join(tmpdir(), "ipc-packed-")));
  // A clean checkout has no dist/: packing must build.
  for (const name of PACKAGES) rmSync(join(root, "packages", name, "dist"), { recursive: true, force: true });
  pnpm(["run", "--silent", "pack:all", join(dir, "tarballs")], root);
  tarballs = readdirSync(join(dir, "tarballs")).map((file) => join(dir, "tarballs", file));
  project = join(dir, "npm-consumer");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), '{ "name": "npm-consumer", "private": true }');
  // npm resolves each package's dependency on @ipc/core to the tarball given in the same command.
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", ...tarballs], {
    cwd: project,
    stdio: "ignore",
  });
  for (const [file, source] of Object.entries(SCRIPTS)) writeFileSync(join(project, file), source);
}, 240_000);

afterAll(() => rmSync(workDir, { recursive: true, force: true }));

describe("the packed packages", () => {
  it("each tarball holds ESM, CommonJS and both type builds, the README, the LICENSE and the shared docs", () => {
    expect(tarballs).toHaveLength(PACKAGES.length);
    for (const tarball of tarballs) {
      const files = execFileSync("tar", ["tzf", tarball], { encoding: "utf8" }).split("\n");
      for (const file of [
        "dist/index.js",
        "dist/index.cjs",
        "dist/index.d.ts",
        "dist/index.d.cts",
        "README.md",
        "LICENSE",
        "docs/glossary.md",
        "docs/errors.md",
        "docs/wire-format.md",
      ]) {
        expect(files, `${tarball} should hold ${file}`).toContain(`package/${file}`);
      }
    }
  });

  it("every package works when required (CommonJS) and when imported (ES module)", () => {
    const expected = SMOKE_OUTPUT;
    expect(run("smoke.cjs")).toBe(expected);
    expect(run("smoke.mjs")).toBe(expected);
  });

  it("both builds loaded in one process share the addon's async waits: no wait is crossed or lost", () => {
    expect(JSON.parse(run("dual-waits.mjs"))).toEqual({
      copies: "distinct",
      notified: "ok",
      neverNotified: "timed-out",
      eventAcrossCopies: "set",
      eventTimeout: "ERR_IPC_TIMEOUT",
    });
  });

  it("both builds loaded in one process run every shutdown step once on SIGTERM", () => {
    const output = execFileSync(
      "sh",
      ["-c", `node dual-shutdown.mjs & pid=$!; sleep 1; kill -TERM $pid; wait $pid; echo "exit $?"`],
      { cwd: project, encoding: "utf8", timeout: 30_000 },
    ).trim();
    expect(output.split("\n")).toEqual([
      "ready",
      "step from the CommonJS build",
      "step from the ES module",
      "exit 143",
    ]);
  });

  it("a child that loads both builds gets one channel to its parent, not two readers of one pipe", () => {
    expect(run("dual-pipe.mjs")).toBe("same channel: true, answer: 49");
  });

  it("installs with pnpm refusing @ipc/shm's build script: the prebuilt binary serves", () => {
    const consumer = join(createTempDir(), "pnpm-consumer");
    mkdirSync(consumer);
    writeFileSync(join(consumer, "package.json"), '{ "name": "pnpm-consumer", "private": true }');
    // Nothing is on the registry yet: every @ipc dependency points at its tarball.
    const overrides = tarballs
      .map((file) => `  "@ipc/${/^ipc-([a-z]+)-[0-9]/.exec(basename(file))![1]}": "file:${file}"`)
      .join("\n");
    writeFileSync(
      join(consumer, "pnpm-workspace.yaml"),
      `allowBuilds:\n  "@ipc/shm": false\nupdateNotifier: false\noverrides:\n${overrides}\n`,
    );
    pnpm(["add", ...tarballs], consumer);
    for (const file of ["smoke.cjs", "echo-child.cjs", "queue-child.cjs"])
      writeFileSync(join(consumer, file), SCRIPTS[file]!);
    expect(run("smoke.cjs", [], consumer)).toBe(SMOKE_OUTPUT);
  }, 120_000);
});

// The programs the tests run inside the consumer project: plain JavaScript, as users write it.
const SMOKE_BODY = `
const { mkdtempSync, rmSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");
(async () => {
  const core = load("@ipc/core");
  const [a, b] = core.createMemoryChannelPair();
  await a.send({ n: 1 });
  if ((await b.receive()).n !== 1 || !core.isIpcError(new core.IpcError("ERR_IPC_CLOSED", "x"))) throw new Error("core");
  console.log("ok core");

  const pipe = load("@ipc/pipe");
  const child = await pipe.forkWithPipes(join(__dirname, "echo-child.cjs"));
  await child.channel().send(7);
  if ((await child.channel().receive({ timeout: 10000 })) !== 49) throw new Error("pipe");
  await child.close();
  console.log("ok pipe");

  const dir = mkdtempSync(join(tmpdir(), "ipc-smoke-"));
  const fifo = load("@ipc/fifo");
  const receiver = await fifo.openFifoReceiver(join(dir, "f.fifo"), { create: true });
  const sender = await fifo.openFifoSender(join(dir, "f.fifo"), { wait: false });
  await sender.send("fifo");
  if ((await receiver.receive({ timeout: 5000 })) !== "fifo") throw new Error("fifo");
  await sender.close();
  await receiver.close();
  console.log("ok fifo");

  const socket = load("@ipc/socket");
  const listener = await socket.listen(join(dir, "s.sock"));
  const client = await socket.connect(listener.address);
  await client.send("socket");
  if ((await (await listener.accept()).receive({ timeout: 5000 })) !== "socket") throw new Error("socket");
  await client.close();
  await listener.close();
  rmSync(dir, { recursive: true });
  console.log("ok socket");

  const signal = load("@ipc/signal");
  const rung = signal.waitForSignal("SIGUSR2", { timeout: 5000 });
  process.kill(process.pid, "SIGUSR2");
  if ((await rung) !== "SIGUSR2" || !signal.processAlive(process.pid)) throw new Error("signal");
  console.log("ok signal");

  const shm = load("@ipc/shm");
  const segment = shm.createSegment(64);
  const held = new shm.SharedLock(segment.buffer, 8).lockSync();
  const waiting = new shm.SharedLock(segment.buffer, 8).lock({ timeout: 5000 });
  setTimeout(() => held.unlock(), 20);
  (await waiting).unlock();
  segment.close();
  const left = shm.createShmChannel();
  const right = shm.openShmChannel({ fd: left.fd });
  await left.send("shm");
  if ((await right.receive({ timeout: 5000 })) !== "shm") throw new Error("shm");
  await Promise.all([left.close(), right.close()]);
  console.log("ok shm");

  const queue = load("@ipc/queue");
  const jobs = queue.createQueue();
  const childModule = join(__dirname, "queue-child.cjs");
  const producer = new pipe.Process({ target: require(childModule).produce, args: [jobs, 3], module: childModule });
  await producer.start({ timeout: 10000 });
  await producer.join({ timeout: 10000 });
  if (jobs.qsize() !== 3 || jobs.getNowait() !== 0 || producer.exitCode !== 0) throw new Error("queue");
  await jobs.close();
  console.log("ok queue");

  // The Redis entry loads without its optional peer, and says what to install when it is used.
  const redisQueue = load("@ipc/queue/redis");
  const missing = await redisQueue.openRedisQueue("q", { url: "redis://127.0.0.1:1" }).catch((error) => error);
  if (missing?.code !== "ERR_IPC_UNSUPPORTED" || !missing.message.includes("@redis/client")) throw new Error("queue/redis: " + missing);
  console.log("ok queue/redis without @redis/client");
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;

const SCRIPTS: Record<string, string> = {
  "smoke.cjs": `const load = (name) => require(name);\n${SMOKE_BODY}`,
  "smoke.mjs": `import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const __dirname = import.meta.dirname;
const modules = {};
for (const name of ["@ipc/core", "@ipc/pipe", "@ipc/fifo", "@ipc/socket", "@ipc/signal", "@ipc/shm", "@ipc/queue", "@ipc/queue/redis"]) modules[name] = await import(name);
const load = (name) => modules[name];
${SMOKE_BODY}`,
  "queue-child.cjs": `// A Process target: puts 0..n-1 on the queue its parent handed it.
require("@ipc/queue");
exports.produce = async function produce(queue, n) {
  for (let i = 0; i < n; i++) await queue.put(i);
};
`,
  "echo-child.cjs": `const { openParentChannel } = require("@ipc/pipe");
const channel = openParentChannel();
(async () => { for await (const n of channel) await channel.send(n * n); })();`,
  "dual-waits.mjs": `import { createRequire } from "node:module";
const esm = await import("@ipc/shm");
const cjs = createRequire(import.meta.url)("@ipc/shm");
const segment = esm.createSegment(64);
const view = new Int32Array(segment.buffer);
const notified = esm.futexWaitAsync(view, 0, 0, { timeout: 5000 });
const neverNotified = cjs.futexWaitAsync(view, 1, 0, { timeout: 300 });
setTimeout(() => { Atomics.store(view, 0, 1); cjs.futexNotify(view, 0); }, 50);
const results = { copies: esm.futexWaitAsync === cjs.futexWaitAsync ? "same" : "distinct", notified: await notified, neverNotified: await neverNotified };
const waiting = new cjs.SharedEvent(segment.buffer, 16).wait({ timeout: 5000 });
setTimeout(() => new esm.SharedEvent(segment.buffer, 16).set(), 50);
await waiting;
results.eventAcrossCopies = "set";
new esm.SharedEvent(segment.buffer, 24).clear();
results.eventTimeout = await new esm.SharedEvent(segment.buffer, 24).wait({ timeout: 100 }).then(() => "set", (error) => error.code);
segment.close();
console.log(JSON.stringify(results));`,
  "dual-shutdown.mjs": `import { createRequire } from "node:module";
const esm = await import("@ipc/signal");
const cjs = createRequire(import.meta.url)("@ipc/signal");
const log = (text) => process.stdout.write(text + "\\n");
esm.configureShutdown({ log });
esm.onShutdown(() => log("step from the ES module"));
cjs.onShutdown(() => log("step from the CommonJS build"));
setInterval(() => {}, 1000);
log("ready");`,
  "dual-pipe.mjs": `import { forkWithPipes } from "@ipc/pipe";
const child = await forkWithPipes(import.meta.dirname + "/dual-pipe-child.mjs", [], { stdio: ["ignore", "pipe", "inherit"] });
let said = "";
child.process.stdout.setEncoding("utf8").on("data", (text) => { said += text; });
await child.channel().send(7);
const answer = await child.channel().receive({ timeout: 10000 });
await child.close();
await child.exited;
console.log(said.trim() + ", answer: " + answer);`,
  "dual-pipe-child.mjs": `import { createRequire } from "node:module";
const esm = await import("@ipc/pipe");
const cjs = createRequire(import.meta.url)("@ipc/pipe");
const channel = esm.openParentChannel();
process.stdout.write("same channel: " + (channel === cjs.openParentChannel()));
for await (const n of cjs.openParentChannel()) await channel.send(n * n);`,
};
