import { readFileSync } from "node:fs";

/**
 * True while process `pid` exists and has not exited (in this PID namespace), whoever owns it. A zombie
 * (exited, not yet reaped by its parent) counts as gone: it will never release anything.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  const stat = procStat(pid);
  if (stat === undefined) return process.platform !== "linux"; // gone between the two looks, on Linux
  return stat.state !== "Z" && stat.state !== "X";
}

/**
 * When process `pid` started, in clock ticks since boot, as a positive 31-bit number (Linux), or 0 where
 * that cannot be known. With the pid it names one process for good: pids are reused, start times are not.
 */
export function processStartTime(pid: number): number {
  const stat = procStat(pid);
  if (stat === undefined) return 0;
  return (stat.startTime % 0x7fff_ffff) + 1;
}

interface ProcStat {
  state: string;
  startTime: number;
}

function procStat(pid: number): ProcStat | undefined {
  if (process.platform !== "linux") return undefined;
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return undefined;
  }
  // "pid (comm) S ppid ...": fields after the last ")" (comm may itself contain ")"); starttime is field 22.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0]!, startTime: Number(fields[19]) };
}
