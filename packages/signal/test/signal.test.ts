import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { IpcErrorCode } from "@ipc/core";
import {
  forwardSignals,
  onDoorbell,
  onSignal,
  processAlive,
  SignalErrorCode,
  sendSignal,
  signalName,
  signalNumber,
  signals,
  waitForSignal,
} from "@ipc/signal";
import { readableByOthers, TYPESCRIPT_NODE_ARGS, trackChild, waitUntil } from "@ipc-internal/test-utils";
import { describe, expect, it } from "vitest";

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

interface Started {
  child: ChildProcess;
  output: () => string;
  lines: () => string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(
  name: string,
  args: string[] = [],
  options: { detached?: boolean; uid?: number } = {},
): Started {
  const child = spawn(process.execPath, [...TYPESCRIPT_NODE_ARGS, fixture(name), ...args], {
    stdio: ["ignore", "pipe", "inherit"],
    ...options,
    ...(options.uid === undefined ? {} : { gid: options.uid, env: { ...process.env, TMPDIR: "/tmp" } }),
  });
  const peer = trackChild(child, 30_000);
  let output = "";
  child.stdout!.setEncoding("utf8").on("data", (text: string) => {
    output += text;
  });
  return {
    child,
    output: () => output,
    lines: () => output.trim().split("\n"),
    exited: peer.exited,
  };
}

describe("sending and waiting across processes", () => {
  it("a child waits for SIGUSR2 and reports it", async () => {
    const waiter = start("waiter.ts");
    await waitUntil(() => waiter.output().includes("ready"), "the child to listen");
    sendSignal(waiter.child, "SIGUSR2");
    expect(await waiter.exited).toEqual({ code: 0, signal: null });
    expect(waiter.lines()).toEqual(["ready", "got SIGUSR2"]);
  });

  it("sends by number too, and tells whether a process is alive", async () => {
    const waiter = start("waiter.ts");
    await waitUntil(() => waiter.output().includes("ready"), "the child to listen");
    expect(processAlive(waiter.child.pid!)).toBe(true);
    sendSignal(waiter.child.pid!, signalNumber("SIGUSR2"));
    await waiter.exited;
    expect(processAlive(waiter.child.pid!)).toBe(false);
    expect(processAlive(1)).toBe(true);
  });
});

describe("graceful shutdown", () => {
  it("runs the steps once, in reverse order, then exits with 128 + the signal number", async () => {
    const service = start("service.ts", ["normal"]);
    await waitUntil(() => service.output().includes("ready"), "the service to start");
    sendSignal(service.child, "SIGTERM");
    expect(await service.exited).toEqual({ code: 143, signal: null });
    expect(service.lines()).toEqual([
      "ready",
      "step C (registered last, runs first)",
      "step B for SIGTERM",
      "step A (registered first, runs last)",
    ]);
  });

  it("gives up a step past its time limit and runs the next", async () => {
    const service = start("service.ts", ["slow-step"]);
    await waitUntil(() => service.output().includes("ready"), "the service to start");
    sendSignal(service.child, "SIGINT");
    expect(await service.exited).toEqual({ code: 130, signal: null });
    expect(service.lines().slice(1)).toEqual([
      "step C (registered last, runs first)",
      "step B for SIGINT",
      'shutdown step "B" took more than 100 ms; moving on',
      "step A (registered first, runs last)",
    ]);
  });

  it("exits at once on a second signal", async () => {
    const service = start("service.ts", ["hang"]);
    await waitUntil(() => service.output().includes("ready"), "the service to start");
    sendSignal(service.child, "SIGTERM");
    await waitUntil(() => service.output().includes("step B"), "the hanging step");
    sendSignal(service.child, "SIGINT");
    expect(await service.exited).toEqual({ code: 130, signal: null });
    expect(service.output()).toContain("SIGINT again: exiting now");
    expect(service.output()).not.toContain("step A");
  });

  it("exits when the overall deadline passes", async () => {
    const service = start("service.ts", ["deadline"]);
    await waitUntil(() => service.output().includes("ready"), "the service to start");
    sendSignal(service.child, "SIGHUP");
    expect(await service.exited).toEqual({ code: 129, signal: null });
    expect(service.output()).toContain("shutdown took longer than 300 ms: exiting now");
  });

  it("ends a process whose step blocks the event loop, by SIGKILL half a second past the deadline", async () => {
    const service = start("service.ts", ["blocking"]);
    await waitUntil(() => service.output().includes("ready"), "the service to start");
    const started = performance.now();
    sendSignal(service.child, "SIGTERM");
    expect(await service.exited).toEqual({ code: null, signal: "SIGKILL" });
    const took = performance.now() - started;
    // The step would block for 10 s; the deadline is 300 ms, the watchdog's grace 500 ms.
    expect(took).toBeGreaterThan(700);
    expect(took).toBeLessThan(5_000);
  });

  it("runs the same steps on a programmatic shutdown, with the exit code asked for", async () => {
    const service = start("service.ts", ["programmatic"]);
    expect(await service.exited).toEqual({ code: 3, signal: null });
    expect(service.lines().slice(1)).toEqual([
      "step C (registered last, runs first)",
      "step B for asked",
      "step A (registered first, runs last)",
    ]);
  });

  it("uses the configured exit code instead of 128 + n", async () => {
    const service = start("service.ts", ["custom-code"]);
    await waitUntil(() => service.output().includes("ready"), "the service to start");
    sendSignal(service.child, "SIGTERM");
    expect(await service.exited).toEqual({ code: 42, signal: null });
  });
});

describe("forwarding", () => {
  it("passes SIGTERM from a supervisor on to its children", async () => {
    const supervisor = start("supervisor.ts");
    await waitUntil(
      () => supervisor.output().includes("ready") && supervisor.output().split("listening").length === 3,
      "the supervisor and its children to listen",
    );
    sendSignal(supervisor.child, "SIGTERM");
    expect(await supervisor.exited).toEqual({ code: 0, signal: null });
    const got = supervisor.lines().filter((line) => line.includes("got SIGTERM"));
    expect(got).toHaveLength(2);
    expect(supervisor.output()).toContain("supervisor done");
  });

  it("signals every process of a group", async () => {
    const leader = start("group-leader.ts", [], { detached: true });
    await waitUntil(() => leader.output().split("listening").length === 4, "the three members to listen");
    sendSignal({ group: leader.child.pid! }, "SIGUSR2");
    await waitUntil(
      () => leader.lines().filter((line) => line.includes("got SIGUSR2")).length === 3,
      "three members",
    );
    // The leader is a member too, without a handler: SIGUSR2's default action ends it.
    expect(await leader.exited).toEqual({ code: null, signal: "SIGUSR2" });
  });

  it("forwards from this process, skipping targets that are gone", async () => {
    const waiter = start("waiter.ts");
    await waitUntil(() => waiter.output().includes("ready"), "the child to listen");
    const gone = start("waiter.ts");
    await waitUntil(() => gone.output().includes("ready"), "the second child");
    gone.child.kill("SIGKILL");
    await gone.exited;
    using _forward = forwardSignals([gone.child, waiter.child], ["SIGUSR2"]);
    process.kill(process.pid, "SIGUSR2");
    expect(await waiter.exited).toEqual({ code: 0, signal: null });
  });
});

describe("listeners in this process", () => {
  it("gives Node's default action back once the last handler is disposed", async () => {
    const child = start("dispose-then-wait.ts");
    await waitUntil(() => child.output().includes("disposed"), "the child to dispose its handler");
    sendSignal(child.child, "SIGTERM");
    expect(await child.exited).toEqual({ code: null, signal: "SIGTERM" });
    expect(child.output()).not.toContain("handled");
  });

  it("handles signals until disposed, and leaves no listener behind", async () => {
    const seen: string[] = [];
    const before = process.listenerCount("SIGUSR2");
    const stop = onSignal("SIGUSR2", (signal) => seen.push(signal));
    process.kill(process.pid, "SIGUSR2");
    await waitUntil(() => seen.length === 1, "the handler");
    stop();
    stop();
    expect(process.listenerCount("SIGUSR2")).toBe(before);
  });

  it("waits with a timeout and an abort signal, removing its listener either way", async () => {
    await expect(waitForSignal("SIGUSR2", { timeout: 50 })).rejects.toMatchObject({
      code: IpcErrorCode.TIMEOUT,
    });
    await expect(waitForSignal("SIGUSR2", { signal: AbortSignal.timeout(50) })).rejects.toMatchObject({
      code: IpcErrorCode.ABORTED,
    });
    const waiting = waitForSignal(["SIGUSR2", "SIGHUP"]);
    process.kill(process.pid, "SIGHUP");
    expect(await waiting).toBe("SIGHUP");
    expect(process.listenerCount("SIGUSR2")).toBe(0);
    expect(process.listenerCount("SIGHUP")).toBe(0);
  });

  it("iterates deliveries and ends when aborted", async () => {
    const controller = new AbortController();
    const seen: string[] = [];
    const iterating = (async () => {
      for await (const signal of signals("SIGUSR2", { signal: controller.signal })) {
        seen.push(signal);
        if (seen.length === 2) controller.abort();
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 20));
    process.kill(process.pid, "SIGUSR2");
    await waitUntil(() => seen.length === 1, "the first delivery");
    process.kill(process.pid, "SIGUSR2");
    await iterating;
    expect(seen).toEqual(["SIGUSR2", "SIGUSR2"]);
    expect(process.listenerCount("SIGUSR2")).toBe(0);
  });
});

describe("doorbell", () => {
  it("drains once per ring, merges rings that come during a drain, never overlaps drains", async () => {
    const mailbox: string[] = [];
    const read: string[] = [];
    let active = 0;
    let overlapped = false;
    using _bell = onDoorbell("SIGUSR2", async () => {
      active += 1;
      overlapped ||= active > 1;
      await new Promise((resolve) => setTimeout(resolve, 30));
      read.push(...mailbox.splice(0));
      active -= 1;
    });
    mailbox.push("one");
    process.kill(process.pid, "SIGUSR2");
    await new Promise((resolve) => setTimeout(resolve, 10));
    mailbox.push("two", "three");
    process.kill(process.pid, "SIGUSR2");
    process.kill(process.pid, "SIGUSR2");
    await waitUntil(() => read.length === 3, "every message to be read");
    expect(read).toEqual(["one", "two", "three"]);
    expect(overlapped).toBe(false);
  });
});

describe("refusals and errors", () => {
  it("refuses to handle SIGKILL and SIGSTOP", () => {
    for (const signal of ["SIGKILL", "SIGSTOP"] as const) {
      expect(() => onSignal(signal, () => {})).toThrow(
        expect.objectContaining({ code: SignalErrorCode.UNCATCHABLE }),
      );
    }
    expect(process.listenerCount("SIGKILL")).toBe(0);
  });

  it("refuses SIGUSR1 (Node's inspector) unless allowed", async () => {
    expect(() => onSignal("SIGUSR1", () => {})).toThrow(
      expect.objectContaining({ code: SignalErrorCode.RESERVED }),
    );
    await expect(waitForSignal("SIGUSR1", { timeout: 10 })).rejects.toMatchObject({
      code: SignalErrorCode.RESERVED,
    });
    const stop = onSignal("SIGUSR1", () => {}, { allowInspectorSignal: true });
    stop();
    expect(process.listenerCount("SIGUSR1")).toBe(0);
  });

  it("refuses unknown signals and invalid pids", () => {
    expect(() => signalName("SIGNOPE")).toThrow(expect.objectContaining({ code: SignalErrorCode.UNKNOWN }));
    expect(() => sendSignal(process.pid, 999)).toThrow(
      expect.objectContaining({ code: SignalErrorCode.UNKNOWN }),
    );
    for (const pid of [0, -1, 1.5, Number.NaN]) {
      expect(() => sendSignal(pid, "SIGTERM")).toThrow(
        expect.objectContaining({ code: SignalErrorCode.INVALID_PID }),
      );
    }
    expect(signalName(15)).toBe("SIGTERM");
  });

  it("reports a process that does not exist", async () => {
    const waiter = start("waiter.ts");
    waiter.child.kill("SIGKILL");
    await waiter.exited;
    expect(() => sendSignal(waiter.child.pid!, "SIGTERM")).toThrow(
      expect.objectContaining({ code: SignalErrorCode.NO_PROCESS, errno: "ESRCH" }),
    );
  });

  // Needs root to start a process as another user.
  it.skipIf(process.getuid?.() !== 0)("reports EPERM as ERR_IPC_SIGNAL_PERMISSION", async () => {
    const probe = spawn(
      process.execPath,
      ["-e", `try { process.kill(${process.pid}, 0) } catch (e) { console.log(e.code) }`],
      {
        stdio: ["ignore", "pipe", "inherit"],
        uid: 65534,
        gid: 65534,
      },
    );
    trackChild(probe);
    let output = "";
    probe.stdout.setEncoding("utf8").on("data", (text: string) => {
      output += text;
    });
    await new Promise((resolve) => probe.once("exit", resolve));
    expect(output.trim()).toBe("EPERM");
    if (readableByOthers(fixture("kill-as.ts"))) {
      const other = start("kill-as.ts", [String(process.pid)], { uid: 65534 });
      await other.exited;
      expect(other.output().trim()).toBe(SignalErrorCode.PERMISSION);
    }
  });
});
