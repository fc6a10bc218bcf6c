// @ipc/core: a parent and a child process talking over one socketpair with the stream channel.
// The parent asks three questions; the child answers each; the parent closes and the child's loop ends.
import { spawn } from "node:child_process";
import { Socket } from "node:net";
import { createStreamChannel } from "@ipc/core";

interface Question {
  n: number;
}
interface Answer {
  n: number;
  square: number;
  pid: number;
}

if (process.argv[2] === "child") {
  // fd 3 is our end of the socketpair the parent created with stdio "pipe".
  const channel = createStreamChannel<Question | Answer>(
    new Socket({ fd: 3, readable: true, writable: true }),
  );
  for await (const question of channel) {
    const { n } = question as Question;
    await channel.send({ n, square: n * n, pid: process.pid });
  }
  console.log(`  child ${process.pid}: the parent closed the channel, exiting`);
} else {
  const child = spawn(
    process.execPath,
    [...process.execArgv, import.meta.filename ?? process.argv[1]!, "child"],
    {
      stdio: ["ignore", "inherit", "inherit", "pipe"],
    },
  );
  await using channel = createStreamChannel<Question | Answer>(child.stdio[3] as Socket);
  for (const n of [3, 4, 5]) {
    await channel.send({ n });
    const answer = (await channel.receive({ timeout: 10_000 })) as Answer;
    console.log(`  parent ${process.pid}: child ${answer.pid} says ${answer.n}² = ${answer.square}`);
  }
  await channel.close();
  await new Promise((resolve) => child.once("exit", resolve));
}
