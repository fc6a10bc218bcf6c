// Benchmark peer: `peer.ts <mechanism> <phase> <count> [address]`.
// echo: sends every message straight back. sink (count "<warm-up>+<timed>"): acknowledges once after the
// warm-up messages and once after the rest.

import { once } from "node:events";
import { connect } from "node:net";
import { openFifoChannel } from "@ipc/fifo";
import { openParentChannel } from "@ipc/pipe";
import { openShmChannel } from "@ipc/shm";
import { connect as connectSocket } from "@ipc/socket";
import type { Link } from "./link.js";
import { mechanismById } from "./mechanisms.js";

const [id, phase, countText, address] = process.argv.slice(2);
const mechanism = mechanismById(id!);
const [warmUp, timed] = countText!.includes("+") ? countText!.split("+").map(Number) : [0, Number(countText)];
const count = warmUp! + timed!;

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
    case "ipc-shm": {
      const options = { codec: mechanism.codec!, spin: mechanism.spin };
      return mechanism.link({ channel: openShmChannel({ fd: 3 }, options) });
    }
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
    default:
      return mechanism.link({ process });
  }
}

const link = await open();
await link.send(mechanism.payload === "bytes" ? new Uint8Array([0]) : { ready: true });

if (phase === "echo") {
  for (let i = 0; i < count; i += 1) await link.send(await link.receive());
} else {
  const ack = () => link.send(mechanism.payload === "bytes" ? new Uint8Array([1]) : { done: count });
  for (let i = 0; i < count; i += 1) {
    await link.receive();
    if (i + 1 === warmUp) await ack();
  }
  await ack();
}
await link.close();
