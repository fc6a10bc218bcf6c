// @ipc/signal: "signal as doorbell". The child writes work into a file and rings (SIGUSR2); the parent
// wakes, reads the file, and answers with SIGUSR2; the child waits for that before finishing.
import { spawn } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sendSignal, signals, waitForSignal } from "@ipc/signal";

if (process.argv[2] === "child") {
  const mailbox = process.argv[3]!;
  for (const job of ["resize photo.jpg", "send newsletter"]) {
    appendFileSync(mailbox, `${job}\n`);
    const answered = waitForSignal("SIGUSR2", { timeout: 10_000 });
    sendSignal(process.ppid, "SIGUSR2"); // ring the doorbell
    await answered;
    console.log(`  child ${process.pid}: the parent took "${job}"`);
  }
} else {
  const dir = mkdtempSync(join(tmpdir(), "ipc-signal-demo-"));
  const mailbox = join(dir, "mailbox");
  appendFileSync(mailbox, "");
  const stop = new AbortController();
  const child = spawn(process.execPath, [...process.execArgv, import.meta.filename, "child", mailbox], {
    stdio: "inherit",
  });
  child.once("exit", () => stop.abort());
  let read = 0;
  try {
    for await (const _ of signals("SIGUSR2", { signal: stop.signal })) {
      const jobs = readFileSync(mailbox, "utf8").split("\n").filter(Boolean);
      for (const job of jobs.slice(read)) console.log(`  parent ${process.pid}: doorbell! new job: ${job}`);
      read = jobs.length;
      sendSignal(child, "SIGUSR2");
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
