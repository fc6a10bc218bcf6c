// Benchmark peer: `peer.ts <mechanism> <phase> <count> [socket path]`.
// echo: sends every message straight back. sink: receives <count> messages, then sends one acknowledgement.

import { once } from "node:events";
import { connect } from "node:net";
import { openParentPipe } from "@ipc/pipe";
import { mechanismById } from "./mechanisms.js";

const [id, phase, countText, path] = process.argv.slice(2);
const mechanism = mechanismById(id!);
const count = Number(countText);

let socket: ReturnType<typeof connect> | undefined;
if (mechanism.transport === "unix-socket") {
  socket = connect(path!);
  await once(socket, "connect");
}
const link =
  mechanism.transport === "ipc-pipe"
    ? mechanism.link({ channel: openParentPipe(0, { codecs: [mechanism.codec] }) })
    : mechanism.link(socket ? { socket } : { process });
await link.send(mechanism.payload === "bytes" ? new Uint8Array([0]) : { ready: true });

if (phase === "echo") {
  for (let i = 0; i < count; i += 1) await link.send(await link.receive());
} else {
  for (let i = 0; i < count; i += 1) await link.receive();
  await link.send(mechanism.payload === "bytes" ? new Uint8Array([1]) : { done: count });
}
await link.close();
