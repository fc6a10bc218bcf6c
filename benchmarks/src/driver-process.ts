import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Mechanism } from "./mechanisms.js";
import type { ModeName } from "./modes.js";
import { PEER_CPU } from "./pinning.js";
import type { Sample } from "./session.js";

const DRIVER = fileURLToPath(new URL("./driver.js", import.meta.url));

/**
 * A running driver.js: one mechanism's bench side in a Node process of its own, so that its code is
 * optimized for that mechanism alone (as in a user's program), not for every transport the bench has
 * run before it. It stays up, with its peer, for every round.
 */
export class DriverProcess {
  readonly #child: ChildProcess;
  readonly #answers: AsyncIterator<string>;

  private constructor(child: ChildProcess) {
    this.#child = child;
    this.#answers = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  }

  static start(
    mechanism: Mechanism,
    settings: { modeName: ModeName; rounds: number; workDir: string; pinned: boolean },
  ): DriverProcess {
    const args = [DRIVER, mechanism.id, settings.modeName, String(settings.rounds), settings.workDir];
    // Pinned, every thread starts on the peers' CPU and the driver then moves its main thread to the bench
    // CPU (pinning.ts): each process's helper threads run on the other's CPU.
    const child = settings.pinned
      ? spawn("taskset", ["--cpu-list", String(PEER_CPU), process.execPath, ...args, "1"], {
          stdio: ["pipe", "pipe", "inherit"],
        })
      : spawn(process.execPath, [...args, "0"], { stdio: ["pipe", "pipe", "inherit"] });
    return new DriverProcess(child);
  }

  /** Measures one round; undefined when the mechanism is unavailable here. */
  async round(): Promise<Sample | undefined> {
    this.#child.stdin!.write("round\n");
    const answer = await this.#answers.next();
    if (answer.done) {
      const [code, signal] =
        this.#child.exitCode === null ? await once(this.#child, "exit") : [this.#child.exitCode];
      throw new Error(
        `the bench driver for this mechanism ended (exit code ${code}, signal ${signal ?? "none"})`,
      );
    }
    return (JSON.parse(answer.value) as Sample | null) ?? undefined;
  }

  /** Ends the driver (it closes its session) and waits for it to exit; kills it if it takes over 10 s. */
  async close(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = once(this.#child, "exit");
    this.#child.stdin!.end();
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
