// Benchmark peer: `peer.js <mechanism> <plan> [address]`; the plan is phases separated by commas:
// `echo:<timed>` sends every message straight back, the timed part starting after a marker message
// (mechanisms.ts) ends the warm-up; `work:<warm-up>+<timed>` the same after 50 µs of CPU, as a request
// handler would; `sink:<timed>` acknowledges the marker that ends a warm-up, then the rest; `gc:0` ends a
// round with a full garbage collection, then one message.
// After each phase it prints {"cpuUs"} on stdout: its main thread's CPU time over the timed part.
import { once } from "node:events";
import { connect } from "node:net";
import { openFifoChannel } from "@ipc/fifo";
import { openParentChannel } from "@ipc/pipe";
import { openShmChannel } from "@ipc/shm";
import { connect as connectSocket } from "@ipc/socket";
import { mainThreadCpuUs } from "./cpu.js";
import { nodeIpcConnect, zeromqConnect } from "./external-links.js";
import { fullGc } from "./full-gc.js";
import { type Link, receiveAll } from "./link.js";
import { isMarker, mechanismById } from "./mechanisms.js";
import { PEER_CPU, PIN_PEER_ENV, pin } from "./pinning.js";

const [id, plan, address] = process.argv.slice(2);
const mechanism = mechanismById(id!);
// The peer pins its own main thread, before it connects: its other threads, started with the process on
// the CPU of the driver that spawned it, stay there (pinning.ts).
if (process.env[PIN_PEER_ENV] === "1") pin(process.pid, PEER_CPU);

async function open(): Promise<Link> {
  switch (mechanism.transport) {
    case "ipc-pipe":
      return mechanism.link({ channel: openParentChannel(0, { codecs: [mechanism.codec] }) });
    case "ipc-fifo": {
      const [toPeer, toParent] = address!.split(",") as [string, string];
      return mechanism.link({
        channel: await openFifoChannel(toPeer, toParent, { codec: mechanism.codec! }),
      });
    }
    case "ipc-shm":
      return mechanism.link({
        channel: openShmChannel({ fd: 3 }, { codec: mechanism.codec!, spin: mechanism.spin }),
      });
    case "ipc-socket-unix":
    case "ipc-socket-tcp":
      return mechanism.link({ channel: await connectSocket(address!, { codec: mechanism.codec! }) });
    case "unix-socket":
    case "tcp-socket": {
      const [host, port] = address!.split(":");
      const socket = mechanism.transport === "unix-socket" ? connect(address!) : connect(Number(port), host);
      await once(socket, "connect");
      socket.setNoDelay(true);
      return mechanism.link({ socket });
    }
    case "zeromq":
      return mechanism.link({ external: zeromqConnect(address!) });
    case "node-ipc":
      return mechanism.link({ external: await nodeIpcConnect(address!) });
    default:
      return mechanism.link({ process });
  }
}

const cpuNow = mainThreadCpuUs;
const opened = await open();
// Counted, so that a peer asked where it is stuck (SIGUSR2, from its driver) can say.
let phaseNow = "connecting";
let received = 0;
let sent = 0;
const link: Link = {
  send(message) {
    sent += 1;
    return opened.send(message);
  },
  receive() {
    received += 1;
    return opened.receive();
  },
  close: () => opened.close(),
};
process.on("SIGUSR2", () =>
  process.stderr.write(
    `bench: the ${id} peer is in "${phaseNow}", ${received} receives and ${sent} sends called so far\n`,
  ),
);
const small = (value: number) => (mechanism.payload === "bytes" ? new Uint8Array([value]) : { ack: value });
await link.send(small(0)); // ready

for (const phase of plan!.split(",")) {
  const [kind, counts] = phase.split(":") as [string, string];
  const [warmUp, timed] = counts.split("+").map(Number) as [number, number];
  let cpuAt = cpuNow();
  phaseNow = phase;
  if (kind === "echo") {
    // Warm-up until the marker, then `echo:<timed>` round trips.
    for (let request = await link.receive(); ; request = await link.receive()) {
      await link.send(request);
      if (isMarker(mechanism, request)) break;
    }
    cpuAt = cpuNow();
    for (let i = 0; i < Number(counts); i += 1) await link.send(await link.receive());
  } else if (kind === "sink") {
    // Receives until the marker and acknowledges it, then acknowledges `sink:<timed>` messages.
    for (;;) {
      let message = link.receive();
      if (message instanceof Promise) message = await message;
      if (isMarker(mechanism, message)) break;
    }
    await link.send(small(1));
    cpuAt = cpuNow();
    await receiveAll(link, Number(counts));
    await link.send(small(2));
  } else if (kind === "work") {
    // A request handler that takes 50 µs of CPU before it answers.
    for (let i = 0; i < warmUp + timed; i += 1) {
      if (i === warmUp) cpuAt = cpuNow();
      const request = await link.receive();
      for (const until = performance.now() + 0.05; performance.now() < until; );
      await link.send(request);
    }
  } else if (kind === "gc") {
    // The end of a round: a full collection, then a message that says it is done (session.ts).
    fullGc();
    await link.send(small(3));
  } else {
    throw new Error(`unknown phase ${phase}`);
  }
  process.stdout.write(`${JSON.stringify({ cpuUs: cpuNow() - cpuAt })}\n`);
}
await link.close();
