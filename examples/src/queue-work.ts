// A work queue that survives a worker's death: two workers lease jobs; one is killed (SIGKILL) in the
// middle of a job, and that job is delivered again to the other worker. join() returns once every job is
// done.
import { Process } from "@ipc/pipe";
import { createJoinableQueue, createQueue, type JoinableQueue, type Queue } from "@ipc/queue";

/** A worker: leases a job, works on it, acks it; says what it does on `events`. */
export async function work(jobs: JoinableQueue<string>, events: Queue<string>, name: string): Promise<void> {
  for (;;) {
    const lease = await jobs.lease();
    await events.put(`${name} (pid ${process.pid}) started ${lease.value}, delivery ${lease.deliveryCount}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await lease.ack();
    await events.put(`${name} finished ${lease.value}`);
  }
}

if (import.meta.filename === process.argv[1]) {
  await using jobs = createJoinableQueue<string>();
  await using events = createQueue<string>();
  for (const job of ["resize photo.jpg", "send newsletter", "build report", "backup db"]) await jobs.put(job);
  const doomed = new Process({ target: work, args: [jobs, events, "worker A"], daemon: true });
  const steady = new Process({ target: work, args: [jobs, events, "worker B"], daemon: true });
  await doomed.start();
  // Let worker A take its first job, then kill it in the middle of the job.
  console.log(`  ${await events.get()}`);
  doomed.kill();
  await doomed.join();
  console.log(`  worker A was killed (exit code ${doomed.exitCode}) holding its job`);
  await steady.start();
  const done = jobs.join({ timeout: 10_000 });
  const printing = (async () => {
    for await (const event of events) console.log(`  ${event}`);
  })();
  await done;
  console.log("  every job is done (join returned)");
  steady.terminate();
  await steady.join();
  await events.close();
  await printing;
}
