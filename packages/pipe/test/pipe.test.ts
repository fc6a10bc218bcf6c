import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { bytes, IpcErrorCode, json } from "@ipc/core";
import { PipeErrorCode, spawnWithPipes } from "@ipc/pipe";
import {
  createTempDir,
  nodeArgsFor,
  TYPESCRIPT_NODE_ARGS,
  trackChild,
  waitUntil,
} from "@ipc-internal/test-utils";
import { describe, expect, it } from "vitest";
import { fixture, forkFixture } from "./fixtures/start.js";

const MIB = 1024 * 1024;
const pattern = (size: number) => Uint8Array.from({ length: size }, (_, i) => i % 251);

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("@ipc/pipe with a Python child (standard library only)", () => {
  it("exchanges messages both ways, including 0-byte and multi-MiB ones", async () => {
    const child = await spawnWithPipes("python3", [fixture("python_child.py")], {
      pipes: [{ codec: bytes }],
    });
    trackChild(child.process);
    const channel = child.channel<Uint8Array>();
    await channel.send(Buffer.from("olleh"));
    expect(Buffer.from(await channel.receive()).toString()).toBe("hello");
    await channel.send(new Uint8Array(0));
    expect(await channel.receive()).toEqual(new Uint8Array(0));
    const big = pattern(5 * MIB + 3);
    await channel.send(big);
    expect(Buffer.compare(await channel.receive(), big.slice().reverse())).toBe(0);
    await channel.send(Buffer.from(`size:${3 * MIB}`));
    expect(Buffer.compare(await channel.receive(), pattern(3 * MIB))).toBe(0);
    await child.close();
    expect(await child.exited).toEqual({ code: 0, signal: null });
  });

  it("lets Python json.loads what the json codec sends", async () => {
    const child = await spawnWithPipes("python3", [fixture("python_child.py")], { pipes: [{ codec: json }] });
    trackChild(child.process);
    await child.channel().send({ list: [1, "two"], text: "ü" });
    expect(await child.channel().receive()).toEqual({ list: [1, "two"], text: "ü", from: "python" });
    await child.close();
    expect(await child.exited).toEqual({ code: 0, signal: null });
  });
});

describe("@ipc/pipe and the child's life", () => {
  it("fails a pending receive with ERR_IPC_PEER_GONE and the signal when the child is SIGKILLed mid-stream", async () => {
    const child = await forkFixture("streamer.ts", [], { pipes: [{ codec: bytes }] });
    const channel = child.receiver<Uint8Array>();
    for (let i = 0; i < 20; i += 1) expect((await channel.receive())[0]).toBe(i % 256);
    child.process.kill("SIGKILL");
    let error: unknown;
    try {
      // Drain what was already in flight; the failure must follow promptly.
      for (;;) await channel.receive({ timeout: 1000 });
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: IpcErrorCode.PEER_GONE, signal: "SIGKILL" });
    expect(await channel.closed).toMatchObject({
      initiator: "peer",
      error: { code: IpcErrorCode.PEER_GONE },
    });
  });

  it("delivers what a child sent before exiting with an error, then ERR_IPC_PEER_GONE with its exit code", async () => {
    const child = await forkFixture("say-and-exit.ts", ["3"]);
    const channel = child.channel();
    expect(await channel.receive()).toBe("bye");
    await expect(channel.receive({ timeout: 5000 })).rejects.toMatchObject({
      code: IpcErrorCode.PEER_GONE,
      exitCode: 3,
    });
    await expect(channel.send("anyone?")).rejects.toMatchObject({ code: IpcErrorCode.PEER_GONE });
  });

  it("ends iteration cleanly when a child exits with code 0", async () => {
    const child = await forkFixture("say-and-exit.ts", ["0"]);
    const seen: unknown[] = [];
    for await (const message of child.channel()) seen.push(message);
    expect(seen).toEqual(["bye"]);
    expect(await child.exited).toEqual({ code: 0, signal: null });
  });

  it("lets a well-behaved child finish when the parent closes its side", async () => {
    const child = await forkFixture("echo.ts");
    await child.channel().send("ping");
    expect(await child.channel().receive()).toBe("ping");
    await child.close();
    expect(await child.exited).toEqual({ code: 0, signal: null });
  });

  it("stops a child that keeps running when its channel is disposed (stopOnClose)", async () => {
    const child = await forkFixture("linger.ts", [], { stopOnClose: { timeout: 2000 } });
    {
      await using channel = child.channel();
      expect(await channel.receive()).toBe("ready");
    }
    expect(await child.exited).toEqual({ code: null, signal: "SIGTERM" });
  });

  it("does not stop a child that ended the conversation itself, even with stopOnClose", async () => {
    const child = await forkFixture("say-and-exit.ts", ["0"], { stopOnClose: { timeout: 2000 } });
    for await (const _ of child.channel()) {
      // Read until the child closes.
    }
    expect(await child.exited).toEqual({ code: 0, signal: null });
  });

  it("escalates to SIGKILL when a child ignores SIGTERM", async () => {
    const child = await forkFixture("linger.ts", ["stubborn"], { stopOnClose: { timeout: 300 } });
    expect(await child.channel().receive()).toBe("ready");
    await child.close();
    expect(await child.exited).toEqual({ code: null, signal: "SIGKILL" });
  });

  it("ends a child's channels when its parent dies", async () => {
    const marker = join(createTempDir(), "ended");
    const middle = spawn(process.execPath, [...TYPESCRIPT_NODE_ARGS, fixture("middle.ts"), marker], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    trackChild(middle);
    const [{ grandchild }] = (await once(middle, "message")) as [{ grandchild: number }];
    middle.kill("SIGKILL");
    await waitUntil(() => existsSync(marker), "the orphaned child to notice");
    expect(readFileSync(marker, "utf8")).toBe("ended");
    await waitUntil(() => !processAlive(grandchild), "the orphaned child to exit");
  });
});

describe("@ipc/pipe pipes", () => {
  it("gives several pipes to one child, each its own channel and direction", async () => {
    const child = await forkFixture("three-pipes.ts", [], {
      pipes: [{}, { direction: "send" }, { direction: "receive" }],
    });
    const [echo, toChild, fromChild] = [child.channel(), child.sender<string>(1), child.receiver<string>(2)];
    await toChild.send("shout");
    await echo.send({ n: 1 });
    expect(await fromChild.receive()).toBe("SHOUT");
    expect(await echo.receive()).toEqual({ n: 1 });
    await child.close();
    expect(await child.exited).toEqual({ code: 0, signal: null });
  });

  it("enforces one-way pipes with types and at run time", async () => {
    const child = await forkFixture("three-pipes.ts", [], {
      pipes: [{}, { direction: "send" }, { direction: "receive" }],
    });
    const toChild = child.sender(1);
    const fromChild = child.receiver(2);
    // @ts-expect-error a Sender has no receive
    expect(toChild.receive).toBeDefined();
    // @ts-expect-error a Receiver has no send
    expect(fromChild.send).toBeDefined();
    await expect((toChild as unknown as { receive(): Promise<unknown> }).receive()).rejects.toMatchObject({
      code: IpcErrorCode.UNSUPPORTED,
    });
    await expect(
      (fromChild as unknown as { send(m: unknown): Promise<void> }).send("x"),
    ).rejects.toMatchObject({
      code: IpcErrorCode.UNSUPPORTED,
    });
    expect(() => child.channel(1)).toThrow(expect.objectContaining({ code: IpcErrorCode.INVALID_ARGUMENT }));
    expect(() => child.receiver(1)).toThrow(expect.objectContaining({ code: IpcErrorCode.INVALID_ARGUMENT }));
    expect(() => child.sender(2)).toThrow(expect.objectContaining({ code: IpcErrorCode.INVALID_ARGUMENT }));
    expect(() => child.channel(3)).toThrow(expect.objectContaining({ code: IpcErrorCode.INVALID_ARGUMENT }));
    await child.close();
    await child.exited;
  });

  it("gives raw byte-stream access to a pipe opened with raw: true", async () => {
    const child = await forkFixture("raw-writer.ts", [], { pipes: [{ raw: true }] });
    const chunks: Buffer[] = [];
    for await (const chunk of child.stream(0)) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe("raw bytes, no frames");
    expect(() => child.channel(0)).toThrow(expect.objectContaining({ code: IpcErrorCode.INVALID_ARGUMENT }));
    expect(await child.exited).toEqual({ code: 0, signal: null });
  });

  it("runs many children at once, each with its own conversation", async () => {
    const children = await Promise.all(Array.from({ length: 12 }, () => forkFixture("echo.ts")));
    await Promise.all(
      children.map(async (child, index) => {
        for (let i = 0; i < 50; i += 1) {
          await child.channel().send({ index, i });
          expect(await child.channel().receive()).toEqual({ index, i });
        }
        await child.close();
        expect(await child.exited).toEqual({ code: 0, signal: null });
      }),
    );
  });
});

describe("@ipc/pipe errors", () => {
  it("rejects with ERR_IPC_PIPE_SPAWN when the command cannot be started", async () => {
    await expect(spawnWithPipes("no-such-command-ipc-test")).rejects.toMatchObject({
      code: PipeErrorCode.SPAWN,
      errno: "ENOENT",
      path: "no-such-command-ipc-test",
    });
  });

  it("rejects with ERR_IPC_PIPE_EARLY_EXIT when a Node child exits before opening its pipes", async () => {
    await expect(forkFixture("crash-early.ts")).rejects.toMatchObject({
      code: PipeErrorCode.EARLY_EXIT,
      exitCode: 7,
    });
  });

  it("rejects with ERR_IPC_TIMEOUT when a Node child never opens its pipes, and kills it", async () => {
    await expect(forkFixture("never-opens.ts", [], { timeout: 300 })).rejects.toMatchObject({
      code: IpcErrorCode.TIMEOUT,
    });
  });

  it("rejects with ERR_IPC_ABORTED when the start is aborted", async () => {
    const controller = new AbortController();
    const started = forkFixture("never-opens.ts", [], { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await expect(started).rejects.toMatchObject({ code: IpcErrorCode.ABORTED });
  });

  it("tells a child that was not started with pipes: ERR_IPC_PIPE_NO_PARENT", async () => {
    const env = { ...process.env };
    delete env.IPC_PIPES;
    expect(await runOpenPipe(env)).toBe(PipeErrorCode.NO_PARENT);
    expect(await runOpenPipe({ ...env, IPC_PIPES: "three:duplex:json" })).toBe(PipeErrorCode.NO_PARENT);
  });

  it("tells a child whose descriptor is not a pipe: ERR_IPC_PIPE_NOT_A_PIPE", async () => {
    // fd 0 is /dev/null (stdin "ignore"), fd 9 is not open.
    expect(await runOpenPipe({ ...process.env, IPC_PIPES: "0:duplex:json" })).toBe(PipeErrorCode.NOT_A_PIPE);
    expect(await runOpenPipe({ ...process.env, IPC_PIPES: "9:duplex:json" })).toBe(PipeErrorCode.NOT_A_PIPE);
  });

  it("refuses an invalid pipe direction with ERR_IPC_INVALID_ARGUMENT", async () => {
    await expect(spawnWithPipes("true", [], { pipes: [{ direction: "up" as never }] })).rejects.toMatchObject(
      {
        code: IpcErrorCode.INVALID_ARGUMENT,
      },
    );
  });
});

async function runOpenPipe(env: NodeJS.ProcessEnv): Promise<string> {
  const child = spawn(process.execPath, nodeArgsFor(fixture("open-pipe.ts")), {
    stdio: ["ignore", "pipe", "inherit"],
    env,
  });
  trackChild(child);
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (text: string) => {
    output += text;
  });
  await once(child, "exit");
  return output.trim();
}

describe("a child whose work is done", () => {
  it("exits although its pipe to the parent is still open: an idle channel does not keep it alive", async () => {
    const child = await forkFixture("done-child.ts", ["idle"]);
    expect(await child.channel().receive({ timeout: 5000 })).toBe("hello");
    expect(await child.exited).toEqual({ code: 0, signal: null });
    await child.close();
  });

  it("stays alive while a receive waits, and ends once it has answered", async () => {
    const child = await forkFixture("done-child.ts", ["waiting"]);
    expect(await child.channel().receive({ timeout: 5000 })).toBe("hello");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(child.process.exitCode).toBeNull();
    await child.channel().send("ping");
    expect(await child.channel().receive({ timeout: 5000 })).toBe("got ping");
    expect(await child.exited).toEqual({ code: 0, signal: null });
    await child.close();
  });

  it("stays alive with an idle channel when the child asked for it with ref()", async () => {
    const child = await forkFixture("ref-child.ts");
    expect(await child.channel().receive({ timeout: 5000 })).toBe("hello");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(child.process.exitCode).toBeNull();
    await child.close();
    expect(await child.exited).toEqual({ code: 0, signal: null });
  });
});
