import { spawn } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bytes, type IpcError, IpcErrorCode } from "@ipc/core";
import {
  createFifo,
  FifoErrorCode,
  openFifoChannel,
  openFifoReceiver,
  openFifoSender,
  PIPE_BUF_BYTES,
} from "@ipc/fifo";
import {
  createTempDir,
  readableByOthers,
  spawnPeer,
  TYPESCRIPT_NODE_ARGS,
  trackChild,
} from "@ipc-internal/test-utils";
import { describe, expect, it } from "vitest";

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe("creating FIFOs", () => {
  it("creates a FIFO with mode 0600 whatever the umask, exclusively by default", async () => {
    const path = join(createTempDir(), "a.fifo");
    expect(await createFifo(path)).toBe(true);
    const stat = statSync(path);
    expect(stat.isFIFO()).toBe(true);
    expect(stat.mode & 0o777).toBe(0o600);
    await expect(createFifo(path)).rejects.toMatchObject({ code: FifoErrorCode.EXISTS, path });
    expect(await createFifo(path, { exclusive: false })).toBe(false);
  });

  it("refuses a path that is not a FIFO, and a missing directory, with their own codes", async () => {
    const dir = createTempDir();
    const file = join(dir, "plain.txt");
    writeFileSync(file, "data");
    await expect(createFifo(file, { exclusive: false })).rejects.toMatchObject({
      code: FifoErrorCode.NOT_A_FIFO,
    });
    await expect(openFifoReceiver(file)).rejects.toMatchObject({
      code: FifoErrorCode.NOT_A_FIFO,
      path: file,
    });
    await expect(openFifoSender(file, { wait: false })).rejects.toMatchObject({
      code: FifoErrorCode.NOT_A_FIFO,
    });
    mkdirSync(join(dir, "sub"));
    await expect(createFifo(join(dir, "sub"), { exclusive: false })).rejects.toMatchObject({
      code: FifoErrorCode.NOT_A_FIFO,
    });
    await expect(createFifo(join(dir, "missing", "x.fifo"))).rejects.toMatchObject({
      code: FifoErrorCode.NOT_FOUND,
    });
    await expect(openFifoReceiver(join(dir, "nope.fifo"))).rejects.toMatchObject({
      code: FifoErrorCode.NOT_FOUND,
    });
  });

  it("removes a FIFO its opener created when it closes, and keeps it on request", async () => {
    const dir = createTempDir();
    const reader = await openFifoReceiver(join(dir, "owned.fifo"), { create: true });
    expect(existsSync(join(dir, "owned.fifo"))).toBe(true);
    await reader.close();
    expect(existsSync(join(dir, "owned.fifo"))).toBe(false);
    const kept = await openFifoReceiver(join(dir, "kept.fifo"), { create: true, unlink: "never" });
    await kept.close();
    expect(statSync(join(dir, "kept.fifo")).isFIFO()).toBe(true);
  });

  // Starting a process as another user needs root.
  it.skipIf(process.getuid?.() !== 0)(
    "keeps a FIFO private: another user gets EACCES, and @ipc/fifo refuses another user's FIFO with ERR_IPC_FIFO_UNSAFE",
    async () => {
      // A directory anyone may traverse, so that the FIFO's own mode is what decides.
      const dir = mkdtempSync(join("/tmp", "ipc-fifo-perm-"));
      try {
        chmodSync(dir, 0o711);
        const path = join(dir, "private.fifo");
        await createFifo(path);
        const asNobody = (args: string[], env: NodeJS.ProcessEnv = {}) => {
          const child = spawn(process.execPath, args, {
            stdio: ["ignore", "pipe", "inherit"],
            uid: 65534,
            gid: 65534,
            env: { ...process.env, TMPDIR: "/tmp", ...env },
          });
          trackChild(child);
          let output = "";
          child.stdout.setEncoding("utf8").on("data", (text: string) => {
            output += text;
          });
          return new Promise<string>((resolve) => child.once("exit", () => resolve(output.trim())));
        };
        // Plain Node first: the mode itself keeps the other user out.
        const probe = `try { require("fs").openSync(${JSON.stringify(path)}, require("fs").constants.O_RDONLY | require("fs").constants.O_NONBLOCK); console.log("opened") } catch (e) { console.log(e.code) }`;
        expect(await asNobody(["-e", probe])).toBe("EACCES");
        // Then through @ipc/fifo, when this checkout is readable by that user (it may sit in a private directory).
        if (readableByOthers(fixture("open-as.ts"))) {
          for (const role of ["reader", "writer"]) {
            // Refused before the mode is even tried: the FIFO belongs to another user.
            expect(await asNobody([...TYPESCRIPT_NODE_ARGS, fixture("open-as.ts"), role, path])).toBe(
              FifoErrorCode.UNSAFE,
            );
          }
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe("opening without blocking", () => {
  it("keeps 16 writers waiting for readers while fs.promises.readFile still completes at once", async () => {
    const dir = createTempDir();
    const paths = Array.from({ length: 16 }, (_, i) => join(dir, `w${i}.fifo`));
    await Promise.all(paths.map((path) => createFifo(path)));
    const controller = new AbortController();
    let settled = 0;
    const writers = paths.map((path) =>
      openFifoSender(path, { signal: controller.signal }).finally(() => {
        settled += 1;
      }),
    );
    // With blocking opens, 4 threadpool threads would be parked and this read would never finish.
    const text = await readFile(fileURLToPath(import.meta.url), "utf8");
    expect(text).toContain("readFile still completes");
    expect(settled).toBe(0);
    controller.abort();
    for (const writer of writers) await expect(writer).rejects.toMatchObject({ code: IpcErrorCode.ABORTED });
  });

  it("fails a writer at once with ERR_IPC_FIFO_NO_READER when asked not to wait", async () => {
    const path = join(createTempDir(), "lonely.fifo");
    await createFifo(path);
    await expect(openFifoSender(path, { wait: false })).rejects.toMatchObject({
      code: FifoErrorCode.NO_READER,
      errno: "ENXIO",
      path,
    });
    await expect(openFifoSender(path, { timeout: 100 })).rejects.toMatchObject({
      code: IpcErrorCode.TIMEOUT,
    });
  });

  it("connects a writer that was waiting as soon as a reader opens", async () => {
    const path = join(createTempDir(), "late-reader.fifo");
    await createFifo(path);
    const writer = openFifoSender(path, { timeout: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const reader = await openFifoReceiver(path);
    await (await writer).send("finally");
    expect(await reader.receive({ timeout: 5000 })).toBe("finally");
    await (await writer).close();
    await reader.close();
  });
});

describe("many writers", () => {
  it("serves writers one after another with a persistent reader", async () => {
    const path = join(createTempDir(), "serve.fifo");
    await createFifo(path);
    const reader = await openFifoReceiver(path, { persistent: true });
    for (let round = 0; round < 3; round += 1) {
      const writer = await openFifoSender(path, { timeout: 10_000 });
      await writer.send({ round });
      await writer.close();
      expect(await reader.receive({ timeout: 5000 })).toEqual({ round });
    }
    await reader.close();
  });

  it("never interleaves messages from 4 concurrent shared writers (processes)", async () => {
    const path = join(createTempDir(), "shared.fifo");
    await createFifo(path);
    const reader = await openFifoReceiver(path, { persistent: true });
    const writers = [0, 1, 2, 3].map((id) =>
      spawnPeer(fixture("shared-writer.ts"), { args: [path, String(id), "300"] }),
    );
    const next = new Map<number, number>();
    for (let i = 0; i < 1200; i += 1) {
      const { id, seq, pad } = (await reader.receive({ timeout: 20_000 })) as {
        id: number;
        seq: number;
        pad: string;
      };
      expect(seq).toBe(next.get(id) ?? 0);
      expect(pad).toBe("x".repeat(2000 + ((seq * 37) % 900)));
      next.set(id, seq + 1);
    }
    await Promise.all(writers.map((writer) => writer.exited));
    await reader.close();
  });

  it("refuses a message too large to be atomic on a shared writer, sending nothing", async () => {
    const path = join(createTempDir(), "atomic.fifo");
    await createFifo(path);
    const reader = await openFifoReceiver(path, { codec: bytes });
    const writer = await openFifoSender(path, { shared: true, codec: bytes });
    await expect(writer.send(new Uint8Array(PIPE_BUF_BYTES))).rejects.toMatchObject({
      code: IpcErrorCode.FRAME_TOO_LARGE,
    });
    await writer.send(new Uint8Array(PIPE_BUF_BYTES - 4));
    expect((await reader.receive()).byteLength).toBe(PIPE_BUF_BYTES - 4);
    await writer.close();
    await reader.close();
  });

  it("reports a writer killed in the middle of a message, and goes on serving the next writer", async () => {
    const path = join(createTempDir(), "killed.fifo");
    await createFifo(path);
    const gone: IpcError[] = [];
    const reader = await openFifoReceiver<Uint8Array>(path, {
      persistent: true,
      codec: bytes,
      onWriterGone: (error) => gone.push(error),
    });
    const killed = spawnPeer(fixture("partial-writer.ts"), {
      args: [path],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    expect(await reader.receive({ timeout: 10_000 })).toEqual(Uint8Array.of(1, 2, 3));
    await new Promise((resolve) => killed.child.once("message", resolve));
    killed.child.kill("SIGKILL");
    await killed.exited;
    const writer = await openFifoSender<Uint8Array>(path, { codec: bytes, timeout: 10_000 });
    await writer.send(Uint8Array.of(42));
    expect(await reader.receive({ timeout: 10_000 })).toEqual(Uint8Array.of(42));
    expect(gone.map((error) => error.code)).toEqual([IpcErrorCode.PEER_GONE]);
    await writer.close();
    await reader.close();
  });
});

describe("Python 3.11 over FIFOs with only os.open/os.read/os.write", () => {
  it("reads our framed JSON requests and answers on the reply FIFO", async () => {
    const dir = createTempDir();
    const [requests, replies] = [join(dir, "requests.fifo"), join(dir, "replies.fifo")];
    await Promise.all([createFifo(requests), createFifo(replies)]);
    const python = spawn("python3", [fixture("python_fifo.py"), requests, replies], { stdio: "inherit" });
    const peer = trackChild(python);
    const channel = await openFifoChannel(replies, requests, { timeout: 10_000 });
    for (const request of [{ n: 1 }, { text: "héllo", list: [1, 2] }]) {
      await channel.send(request);
      expect(await channel.receive({ timeout: 10_000 })).toEqual({ echo: request, from: "python" });
    }
    await channel.close();
    expect(await peer.exited).toEqual({ code: 0, signal: null });
    expect(readFileSync(fixture("python_fifo.py"), "utf8")).toContain("os.write");
  });
});
