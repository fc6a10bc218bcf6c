import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Mechanism } from "./mechanisms.js";
import type { ModeName } from "./modes.js";
import { PEER_CPU } from "./pinning.js";
import type { Sample } from "./session.js";

const DRIVER = fileURLToPath(new URL("./driver.js", import.meta.url));
/** The longest one round of one mechanism may take before its driver and peer are killed. */
const ROUND_TIMEOUT_MS = 60_000;

/**
 * A running driver.js: one mechanism's bench side in a Node process of its own, so that its code is
 * optimized for that mechanism alone (as in a user's program), not for every transport the bench has
 * run before it. It stays up, with its peer, for every round. It leads a process group of its own (its
 * peer joins it), so that a driver that has to be killed takes its peer with it.
 */
export class DriverProcess {
  readonly id: string;
  readonly #child: ChildProcess;
  readonly #answers: AsyncIterator<string>;

  private constructor(id: string, child: ChildProcess) {
    this.id = id;
    this.#child = child;
    child.stdin!.on("error", () => {}); // a driver that died is reported by round()
    this.#answers = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  }

  static start(
    mechanism: Mechanism,
    settings: { modeName: ModeName; rounds: number; workDir: string; pinned: boolean },
  ): DriverProcess {
    const args = [DRIVER, mechanism.id, settings.modeName, String(settings.rounds), settings.workDir];
    const options = { stdio: ["pipe", "pipe", "inherit"] as ("pipe" | "inherit")[], detached: true };
    // Pinned, every thread starts on the peers' CPU and the driver then moves its main thread to the bench
    // CPU (pinning.ts).
    const child = settings.pinned
      ? spawn("taskset", ["--cpu-list", String(PEER_CPU), process.execPath, ...args, "1"], options)
      : spawn(process.execPath, [...args, "0"], options);
    child.on("error", () => {}); // reported by round(), when its output ends
    return new DriverProcess(mechanism.id, child);
  }

  /** Measures one round; undefined when the mechanism is unavailable here. @throws when the driver fails */
  async round(): Promise<Sample | undefined> {
    this.#child.stdin!.write("round\n");
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timed out">((resolve) => {
      timer = setTimeout(() => resolve("timed out"), ROUND_TIMEOUT_MS);
    });
    const answer = await Promise.race([this.#answers.next(), timedOut]);
    clearTimeout(timer);
    if (answer === "timed out") {
      this.#child.kill("SIGUSR2"); // the driver says where it is stuck
      await new Promise((resolve) => setTimeout(resolve, 200));
      this.kill();
      throw new Error(
        `${this.id}: a round took over ${ROUND_TIMEOUT_MS / 1000} s; its driver and peer were killed`,
      );
    }
    if (answer.done) {
      const child = this.#child;
      const [code, signal] =
        child.exitCode === null && child.signalCode === null
          ? await once(child, "exit")
          : [child.exitCode, child.signalCode];
      throw new Error(`its bench driver ended (exit code ${code}, signal ${signal ?? "none"})`);
    }
    return (JSON.parse(answer.value) as Sample | null) ?? undefined;
  }

  /**
   * Ends the driver (it closes its session) and waits for it to exit; kills its group if it takes over
   * 15 s. A driver that did not end cleanly is reported on stderr (its samples were already taken).
   */
  async close(): Promise<void> {
    const child = this.#child;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, "exit");
      child.stdin!.end();
      const timer = setTimeout(() => this.kill(), 15_000);
      await exited;
      clearTimeout(timer);
    }
    if (child.exitCode !== 0) {
      process.stderr.write(
        `bench: the ${this.id} driver ended with exit code ${child.exitCode}, signal ${child.signalCode}\n`,
      );
    }
  }

  /** Kills the driver and everything in its process group (its peer). */
  kill(): void {
    try {
      process.kill(-this.#child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  }
}
