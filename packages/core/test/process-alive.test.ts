import { spawn } from "node:child_process";
import { processAlive, processStartTime } from "@ipc/core/transport";
import { trackChild, waitUntil } from "@ipc-internal/test-utils";
import { describe, expect, it } from "vitest";

describe("processAlive and processStartTime", () => {
  it("tells a running process from an exited one", async () => {
    const child = trackChild(
      spawn(process.execPath, ["-e", "setTimeout(() => {}, 20000)"], { stdio: "ignore" }),
    );
    const pid = child.child.pid!;
    expect(processAlive(pid)).toBe(true);
    expect(processAlive(process.pid)).toBe(true);
    await child.stop();
    expect(processAlive(pid)).toBe(false);
  });

  // A zombie exists for kill(pid, 0) but will never act again: it counts as gone (Linux /proc).
  it.runIf(process.platform === "linux")(
    "counts an exited process its parent has not reaped as gone",
    async () => {
      // A forked child exits at once; its parent (Python, which reaps nothing by itself) sleeps. A shell
      // (`true & …; exec sleep`) could reap its child before the exec when it ran late: flaky under load.
      const script =
        "import os, time\npid = os.fork()\nif pid == 0: os._exit(0)\nprint(pid, flush=True)\ntime.sleep(20)";
      const shell = spawn("python3", ["-c", script], { stdio: ["ignore", "pipe", "ignore"] });
      const parent = trackChild(shell);
      let output = "";
      shell.stdout.setEncoding("utf8").on("data", (text: string) => {
        output += text;
      });
      await waitUntil(() => output.includes("\n"), "the shell to report its child");
      const zombie = Number(output.trim());
      await waitUntil(() => {
        try {
          process.kill(zombie, 0); // still there as far as signals go...
          return !processAlive(zombie); // ...but gone once it has exited
        } catch {
          return false;
        }
      }, "the child to become a zombie");
      await parent.stop();
    },
  );

  it.runIf(process.platform === "linux")(
    "gives each process a start time that a reused pid would not share",
    async () => {
      const own = processStartTime(process.pid);
      expect(own).toBeGreaterThan(0);
      expect(processStartTime(process.pid)).toBe(own);
      const child = trackChild(
        spawn(process.execPath, ["-e", "setTimeout(() => {}, 20000)"], { stdio: "ignore" }),
      );
      await waitUntil(() => processStartTime(child.child.pid!) > 0, "the child to start");
      expect(processStartTime(child.child.pid!)).toBeGreaterThanOrEqual(own);
      await child.stop();
      expect(processStartTime(child.child.pid!)).toBe(0);
    },
  );
});
