import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Process } from "@ipc/pipe";
import { createTempDir, TYPESCRIPT_NODE_ARGS, trackChild, waitUntil } from "@ipc-internal/test-utils";
import { describe, expect, it } from "vitest";
import { failLater, notExportedHolder, stayAlive, Writer, writeArgs } from "./fixtures/process-targets.js";

const targets = fileURLToPath(new URL("./fixtures/process-targets.ts", import.meta.url));
// The child runs TypeScript from src/ here (users' children run their own JavaScript).
const child = { module: targets, execArgv: TYPESCRIPT_NODE_ARGS };

describe("Process (Python's multiprocessing.Process)", () => {
  it("runs an exported target with its arguments in a new process", async () => {
    const file = join(createTempDir(), "out.json");
    const worker = new Process({
      ...child,
      target: writeArgs,
      args: [file, 1, { two: [2] }, "three"],
      name: "writer",
    });
    expect(worker.isAlive()).toBe(false);
    expect(worker.exitCode).toBeNull();
    await worker.start();
    expect(worker.pid).toBeGreaterThan(0);
    expect(await worker.join({ timeout: 20_000 })).toEqual({ code: 0, signal: null });
    expect(worker.exitCode).toBe(0);
    expect(worker.isAlive()).toBe(false);
    const written = JSON.parse(readFileSync(file, "utf8"));
    expect(written).toEqual({ rest: [1, { two: [2] }, "three"], name: "writer", pid: worker.pid });
  });

  it("runs a subclass's run(), with the fields its constructor set (structured clone: a Date stays a Date)", async () => {
    const file = join(createTempDir(), "out.json");
    const writer = new Writer(file, { nested: [1, 2], when: new Date() }, child);
    await writer.start();
    expect(await writer.join({ timeout: 20_000 })).toEqual({ code: 0, signal: null });
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({
      name: writer.name,
      pid: writer.pid,
      alive: true,
      nested: [1, 2],
      isDate: true,
    });
  });

  it("a target that throws: the child prints it and exits with code 1", async () => {
    const worker = new Process({ ...child, target: failLater });
    await worker.start();
    expect(await worker.join({ timeout: 20_000 })).toEqual({ code: 1, signal: null });
    expect(worker.exitCode).toBe(1);
  });

  it("terminate() and kill(): exitCode is minus the signal number, as in Python", async () => {
    const file = join(createTempDir(), "pid");
    const worker = new Process({ ...child, target: stayAlive, args: [file] });
    await worker.start();
    await waitUntil(() => existsSync(file), "the child wrote its pid");
    expect(worker.isAlive()).toBe(true);
    await expect(worker.join({ timeout: 50 })).rejects.toMatchObject({ code: "ERR_IPC_TIMEOUT" });
    worker.terminate();
    expect(await worker.join({ timeout: 10_000 })).toEqual({ code: null, signal: "SIGTERM" });
    expect(worker.exitCode).toBe(-15);

    const other = new Process({ ...child, target: stayAlive, args: [join(createTempDir(), "pid")] });
    await other.start();
    other.kill();
    await other.join({ timeout: 10_000 });
    expect(other.exitCode).toBe(-9);
  });

  it("refuses a second start, a join before start, and a target no module exports", async () => {
    const worker = new Process({ ...child, target: writeArgs, args: [join(createTempDir(), "x")] });
    await expect(worker.join()).rejects.toMatchObject({ code: "ERR_IPC_PIPE_PROCESS_STATE" });
    await worker.start();
    await expect(worker.start()).rejects.toMatchObject({ code: "ERR_IPC_PIPE_PROCESS_STATE" });
    await worker.join({ timeout: 20_000 });
    const hidden = new Process({ ...child, target: notExportedHolder() });
    await expect(hidden.start()).rejects.toMatchObject({ code: "ERR_IPC_PIPE_NOT_EXPORTED" });
    const nothing = new Process({ ...child });
    await expect(nothing.start()).rejects.toMatchObject({ code: "ERR_IPC_PIPE_PROCESS_STATE" });
  });

  it("refuses an argument that cannot cross (a function) before starting anything", async () => {
    const worker = new Process({ ...child, target: writeArgs, args: ["x", () => 1] });
    await expect(worker.start()).rejects.toMatchObject({ code: "ERR_IPC_INVALID_ARGUMENT" });
    expect(worker.pid).toBeUndefined();
  });

  it("a daemon child ends when its parent is killed", async () => {
    const dir = createTempDir();
    // The parent runs from source (tsx), so that its child can import the TypeScript targets too.
    const script = fileURLToPath(new URL("./fixtures/daemon-parent.ts", import.meta.url));
    const parent = trackChild(
      spawn(process.execPath, [...TYPESCRIPT_NODE_ARGS, script, join(dir, "pid")], { stdio: "inherit" }),
    );
    await waitUntil(
      () => existsSync(join(dir, "pid")) && readFileSync(join(dir, "pid"), "utf8") !== "",
      "the daemon started",
    );
    const daemonPid = Number(readFileSync(join(dir, "pid"), "utf8"));
    parent.child.kill("SIGKILL");
    await parent.exited;
    await waitUntil(() => !alive(daemonPid), "the daemon ended with its parent", 10_000);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
