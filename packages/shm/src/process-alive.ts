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
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  if (process.platform !== "linux") return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    // "pid (comm) S ...": the state follows the last ")" (comm may itself contain ")").
    const state = stat[stat.lastIndexOf(")") + 2];
    return state === "Z" || state === "X";
  } catch {
    return true; // gone between the two looks
  }
}
