import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Channel } from "@ipc/core";
import { createFifo, openFifoPair, openFifoReader, openFifoWriter } from "@ipc/fifo";
import {
  type ConformanceSubject,
  codecByName,
  describeConformance,
  pairWithPeer,
} from "@ipc-internal/conformance";
import { createTempDir, spawnPeer } from "@ipc-internal/test-utils";

const PEER = fileURLToPath(new URL("./fixtures/fifo-peer.ts", import.meta.url));
const IPC_STDIO = ["ignore", "inherit", "inherit", "ipc"] as const;

// The peer finds the FIFOs by path only: nothing is inherited, as between unrelated processes.
const oneWay: ConformanceSubject = {
  name: "@ipc/fifo one-way FIFO between two processes",
  capabilities: { duplex: false, raw: true, crossProcess: true },
  async open({ flow, localCodec, remoteCodec, localMaxFrameSize }) {
    const path = join(createTempDir(), "one-way.fifo");
    await createFifo(path);
    const outbound = flow === "local-to-remote";
    let local: Channel<unknown>;
    let peer: ReturnType<typeof spawnPeer>;
    const options = { codec: codecByName(localCodec), maxFrameSize: localMaxFrameSize };
    if (outbound) {
      peer = spawnPeer(PEER, { args: ["reader", path, remoteCodec], stdio: [...IPC_STDIO] });
      local = (await openFifoWriter(path, { ...options, timeout: 20_000 })) as Channel<unknown>;
    } else {
      local = (await openFifoReader(path, options)) as Channel<unknown>;
      peer = spawnPeer(PEER, { args: ["writer", path, remoteCodec], stdio: [...IPC_STDIO] });
    }
    return pairWithPeer(local, peer, { raw: !outbound });
  },
};

const pair: ConformanceSubject = {
  name: "@ipc/fifo duplex pair of FIFOs between two processes",
  capabilities: { duplex: true, raw: false, crossProcess: true },
  async open({ localCodec, remoteCodec, localMaxFrameSize }) {
    const dir = createTempDir();
    const [ours, theirs] = [join(dir, "to-us.fifo"), join(dir, "to-them.fifo")];
    await Promise.all([createFifo(ours), createFifo(theirs)]);
    const peer = spawnPeer(PEER, { args: ["pair", ours, theirs, remoteCodec], stdio: [...IPC_STDIO] });
    const local = await openFifoPair(ours, theirs, {
      codec: codecByName(localCodec),
      maxFrameSize: localMaxFrameSize,
      timeout: 20_000,
    });
    return pairWithPeer(local, peer, { raw: false });
  },
};

describeConformance(oneWay);
describeConformance(pair);
