// The floors: what the machine allows with nothing in the way (C, compiled on demand with the system's
// `cc`; JavaScript with bare `Atomics`), and what Python users get from multiprocessing.Pipe. Each is skipped, with a line saying why,
// when its tool is missing.
import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export interface Floors {
  /** C: 64-byte ping-pong over a socketpair (µs p50), 1 MiB one way over it (bytes/s). */
  cSocketpairRttUs?: number;
  cSocketpairBytesPerSecond?: number;
  /** C: ping-pong through shared memory, both sides spinning (µs p50). */
  cShmSpinRttUs?: number;
  /** JavaScript: the same with `Atomics` on an @ipc/shm segment (µs p50), and with a 64-byte message copied each way. */
  jsShmSpinRttUs?: number;
  jsShmCopyRttUs?: number;
  /** Python multiprocessing.Pipe: 64-byte ping-pong (µs p50), 64-byte messages/s, 1 MiB bytes/s. */
  pythonRttUs?: number;
  pythonSmallPerSecond?: number;
  pythonBytesPerSecond?: number;
  python?: string;
  skipped: string[];
}

const source = fileURLToPath(new URL("../floor/floor.c", import.meta.url));
const pythonScript = fileURLToPath(new URL("../python/pipe_bench.py", import.meta.url));
const jsFloor = fileURLToPath(new URL("./js-floor.js", import.meta.url));

/** Runs a floor program (it forks its own peer, pinned as the Node processes are when `pinned`) and parses its JSON. */
function run(command: string, args: string[], pinned: boolean): Record<string, number> {
  const env = { ...process.env, FLOOR_PIN: pinned ? "1" : "0", PIPE_PIN: pinned ? "1" : "0" };
  const result = spawnSync(command, args, { encoding: "utf8", timeout: 60_000, env });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")}: ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split("\n").at(-1)!) as Record<string, number>;
}

export async function measureFloors(options: {
  workDir: string;
  quick: boolean;
  pinned: boolean;
}): Promise<Floors> {
  const floors: Floors = { skipped: [] };
  const scale = options.quick ? 0.1 : 1;
  const binary = join(options.workDir, "floor");
  try {
    execFileSync("cc", ["-O2", "-o", binary, source], { stdio: "ignore" });
    floors.cSocketpairRttUs = run(
      binary,
      ["socketpair-rtt", String(20_000 * scale)],
      options.pinned,
    ).rttP50Us;
    floors.cSocketpairBytesPerSecond = run(
      binary,
      ["socketpair-bw", String(2_000 * scale)],
      options.pinned,
    ).bytesPerSecond;
    floors.cShmSpinRttUs = run(binary, ["shm-rtt", String(200_000 * scale)], options.pinned).rttP50Us;
  } catch (error) {
    floors.skipped.push(`C floors: no working C compiler (cc): ${(error as Error).message.split("\n")[0]}`);
  }
  try {
    const js = run(
      process.execPath,
      [jsFloor, String(100_000 * scale), ...(options.pinned ? ["pin"] : [])],
      options.pinned,
    );
    floors.jsShmSpinRttUs = js.rttP50Us;
    floors.jsShmCopyRttUs = js.copyRttP50Us;
  } catch (error) {
    floors.skipped.push(`JavaScript floor: ${(error as Error).message.split("\n")[0]}`);
  }
  try {
    floors.python = execFileSync("python3", ["--version"]).toString().trim();
    floors.pythonRttUs = run(
      "python3",
      [pythonScript, "rtt", String(5_000 * scale)],
      options.pinned,
    ).rttP50Us;
    floors.pythonSmallPerSecond = run(
      "python3",
      [pythonScript, "small", String(50_000 * scale)],
      options.pinned,
    ).messagesPerSecond;
    floors.pythonBytesPerSecond = run(
      "python3",
      [pythonScript, "bw", String(200 * scale)],
      options.pinned,
    ).bytesPerSecond;
  } catch (error) {
    floors.skipped.push(`Python multiprocessing.Pipe: ${(error as Error).message.split("\n")[0]}`);
  }
  return floors;
}
