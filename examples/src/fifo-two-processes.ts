// @ipc/fifo: two processes that are not parent and child of each other talk through named pipes found
// by path. This script starts both as siblings ("answerer" and "asker"), then removes the FIFOs.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFifo, openFifoChannel } from "@ipc/fifo";

const [role, dir] = process.argv.slice(2);
if (role === "answerer") {
  // Reads questions.fifo, writes answers.fifo.
  await using channel = await openFifoChannel<string>(
    join(dir!, "questions.fifo"),
    join(dir!, "answers.fifo"),
  );
  for await (const question of channel) {
    console.log(`  answerer ${process.pid} got: ${question}`);
    await channel.send(`${question.toUpperCase()}!`);
  }
  console.log(`  answerer ${process.pid}: the asker hung up`);
} else if (role === "asker") {
  await using channel = await openFifoChannel<string>(
    join(dir!, "answers.fifo"),
    join(dir!, "questions.fifo"),
  );
  for (const question of ["hello over a fifo", "are you a separate process"]) {
    await channel.send(question);
    console.log(`  asker ${process.pid} heard: ${await channel.receive({ timeout: 10_000 })}`);
  }
} else {
  const workDir = mkdtempSync(join(tmpdir(), "ipc-fifo-demo-"));
  try {
    await createFifo(join(workDir, "questions.fifo"));
    await createFifo(join(workDir, "answers.fifo"));
    const start = (name: string) =>
      spawn(process.execPath, [...process.execArgv, import.meta.filename, name, workDir], {
        stdio: "inherit",
      });
    const processes = [start("answerer"), start("asker")];
    await Promise.all(processes.map((child) => new Promise((resolve) => child.once("exit", resolve))));
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}
