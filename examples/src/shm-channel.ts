// @ipc/shm: a message channel over shared memory between a parent and its child; the same Channel API as
// every @ipc transport, at the speed of memory.
import { spawn } from "node:child_process";
import { createShmChannel, openShmChannel } from "@ipc/shm";

interface Question {
  a: number;
  b: number;
}

if (process.argv[2] === "child") {
  await using channel = openShmChannel<Question | number>({ fd: 3 }, { spin: 0.2 });
  for await (const question of channel) {
    const { a, b } = question as Question;
    await channel.send(a * b);
  }
} else {
  await using channel = createShmChannel<Question | number>({ spin: 0.2 });
  const child = spawn(process.execPath, [...process.execArgv, import.meta.filename, "child"], {
    stdio: ["ignore", "inherit", "inherit", channel.fd!],
  });
  await channel.send({ a: 6, b: 7 });
  console.log(`  6 x 7 = ${await channel.receive({ timeout: 10_000 })} (answered by process ${child.pid})`);
  const rounds = 20_000;
  const start = process.hrtime.bigint();
  for (let i = 0; i < rounds; i += 1) {
    await channel.send({ a: i, b: 2 });
    await channel.receive({ timeout: 10_000 });
  }
  const microseconds = Number(process.hrtime.bigint() - start) / 1000 / rounds;
  console.log(`  ${rounds} request/response round trips, ${microseconds.toFixed(1)} µs each on average`);
  await channel.close();
  await new Promise((resolve) => child.once("exit", resolve));
}
