// The tutorial's "queues and subclasses" program: three Counter processes (a subclass of Process) post
// [pid, count] to one queue; the parent polls it without blocking and says "no data..." when it is empty.
import { Process } from "@ipc/pipe";
import { createQueue, type Queue } from "@ipc/queue";

export class Counter extends Process {
  constructor(readonly queue: Queue<[number, number]>) {
    super();
  }

  override async run(): Promise<void> {
    for (let count = 1; count <= 3; count++) {
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 100));
      await this.queue.put([process.pid, count]);
    }
  }
}

// The child imports this file to find Counter: only the program started from the command line runs this.
if (import.meta.filename === process.argv[1]) {
  await using queue = createQueue<[number, number]>();
  const counters = [new Counter(queue), new Counter(queue), new Counter(queue)];
  await Promise.all(counters.map((counter) => counter.start()));
  let received = 0;
  while (received < 9) {
    try {
      const [pid, count] = queue.getNowait(); // Python's get(block=False)
      console.log(`  process ${pid} counted ${count}`);
      received++;
    } catch {
      console.log("  no data...");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  for (const counter of counters) await counter.join();
  console.log(
    `  all ${counters.length} counters ended with code ${counters.map((c) => c.exitCode).join(", ")}`,
  );
}
