import { once } from "node:events";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect, connectReconnecting, listen } from "@ipc/socket";
import {
  type ConformanceSubject,
  codecByName,
  describeConformance,
  describeListenerConformance,
  pairWithPeer,
  pairWithSuccessivePeers,
} from "@ipc-internal/conformance";
import { createTempDir, spawnPeer } from "@ipc-internal/test-utils";

const DIALING_PEER = fileURLToPath(new URL("./fixtures/dialing-peer.ts", import.meta.url));
const LISTENING_PEER = fileURLToPath(new URL("./fixtures/listening-peer.ts", import.meta.url));
const IPC_STDIO = ["ignore", "inherit", "inherit", "ipc"] as const;

const unixAddress = () => join(createTempDir(), "c.sock");
const tcpAddress = () => "127.0.0.1:0";

/** Our listener accepts a child that dials in (raw-capable). */
function listening(name: string, address: () => string): ConformanceSubject {
  return {
    name,
    capabilities: { duplex: true, raw: true, crossProcess: true },
    async open({ localCodec, remoteCodec, localMaxFrameSize }) {
      const listener = await listen(address(), {
        codec: codecByName(localCodec),
        maxFrameSize: localMaxFrameSize,
      });
      const peer = spawnPeer(DIALING_PEER, { args: [listener.address, remoteCodec], stdio: [...IPC_STDIO] });
      const local = await listener.accept({ timeout: 20_000 });
      return pairWithPeer(local, peer, { raw: true, closeLocal: () => listener.close({ graceful: false }) });
    },
  };
}

/** Our connect dials a child that listens with @ipc/socket. */
function dialing(name: string, address: () => string): ConformanceSubject {
  return {
    name,
    capabilities: { duplex: true, raw: false, crossProcess: true },
    async open({ localCodec, remoteCodec, localMaxFrameSize }) {
      const peer = spawnPeer(LISTENING_PEER, { args: [address(), remoteCodec], stdio: [...IPC_STDIO] });
      const [{ address: bound }] = (await once(peer.child, "message")) as [{ address: string }];
      const local = await connect(bound, { codec: codecByName(localCodec), maxFrameSize: localMaxFrameSize });
      return pairWithPeer(local, peer, { raw: false });
    },
  };
}

/** A reconnecting client to a child's listener; the next peer is a new child listening at the same path. */
const reconnecting: ConformanceSubject = {
  name: "@ipc/socket reconnecting client (connectReconnecting) to a child's listener",
  capabilities: { duplex: true, raw: false, crossProcess: true, survivesPeer: true },
  async open({ localCodec, remoteCodec, localMaxFrameSize }) {
    const path = unixAddress();
    const start = async () => {
      const peer = spawnPeer(LISTENING_PEER, { args: [path, remoteCodec], stdio: [...IPC_STDIO] });
      await once(peer.child, "message");
      return peer;
    };
    const first = await start();
    const local = connectReconnecting(path, {
      codec: codecByName(localCodec),
      maxFrameSize: localMaxFrameSize,
      reconnect: { initialDelay: 10, maxDelay: 50, probation: 20 },
    });
    return pairWithSuccessivePeers(local, first, start, { raw: false });
  },
};

describeConformance(listening("@ipc/socket listener over Unix, child dials in", unixAddress));
describeConformance(listening("@ipc/socket listener over TCP, child dials in", tcpAddress));
describeConformance(dialing("@ipc/socket connect over Unix to a child's listener", unixAddress));
describeConformance(reconnecting);

for (const [kind, fresh] of [
  ["Unix", unixAddress],
  ["TCP", tcpAddress],
] as const) {
  describeListenerConformance({
    name: `@ipc/socket listener over ${kind}`,
    listen: (address) => listen(address ?? fresh()),
    connect: (address) => connect(address),
  });
}
