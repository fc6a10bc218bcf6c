// Targets that would make a signal reach the wrong processes are refused.
import { spawn } from "node:child_process";
import { forwardSignals, SignalErrorCode, sendSignal } from "@ipc/signal";
import { trackChild } from "@ipc-internal/test-utils";
import { describe, expect, it } from "vitest";

describe("stale and sweeping targets", () => {
  it("never signals a child that has exited, though its pid now names another process", async () => {
    const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
    await trackChild(child).exited;
    // Pid reuse, made certain: the exited child's pid now names a live, unrelated process.
    const bystander = trackChild(spawn("sleep", ["30"], { stdio: "ignore" }));
    Object.defineProperty(child, "pid", { value: bystander.child.pid });
    expect(() => sendSignal(child, "SIGTERM")).toThrow(
      expect.objectContaining({ code: SignalErrorCode.NO_PROCESS }),
    );
    // Forwarding skips it the same way.
    const stop = forwardSignals([child], ["SIGUSR2"]);
    process.kill(process.pid, "SIGUSR2");
    await new Promise((resolve) => setTimeout(resolve, 100));
    stop();
    expect(bystander.child.exitCode).toBeNull();
    expect(bystander.child.signalCode).toBeNull();
    await bystander.stop();
  });

  it("refuses groups 0 and 1, which mean this process's own group and every process it may signal", () => {
    for (const group of [0, 1, -1, 1.5]) {
      expect(() => sendSignal({ group }, "SIGTERM")).toThrow(
        expect.objectContaining({ code: SignalErrorCode.INVALID_PID }),
      );
    }
  });

  it("refuses pids that would address groups or everyone (0 and negatives)", () => {
    for (const pid of [0, -1, -process.pid, Number.NaN]) {
      expect(() => sendSignal(pid, "SIGTERM")).toThrow(
        expect.objectContaining({ code: SignalErrorCode.INVALID_PID }),
      );
    }
  });
});
