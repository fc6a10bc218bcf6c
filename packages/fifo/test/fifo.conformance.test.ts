import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createFifo, openFifoChannel, openFifoReceiver, openFifoSender, PIPE_BUF_BYTES } from "@ipc/fifo";
import {
  type ConformanceSubject,
  codecByName,
  describeConformance,
  type LocalEnd,
  pairWithPeer,
  pairWithSuccessivePeers,
} from "@ipc-internal/conformance";
import { createTempDir, type Peer, spawnPeer } from "@ipc-internal/test-utils";

const PEER = fileURLToPath(new URL("./fixtures/fifo-peer.ts", import.meta.url));
const IPC_STDIO = ["ignore", "inherit", "inherit", "ipc"] as const;

/**
 * One FIFO between this process and a peer that finds it by path only (nothing is inherited, as between
 * unrelated processes). `persistent`: the local receiver serves writer after writer; `owned`: the local
 * end creates the FIFO itself (`create: true`) and removes it as it closes.
 */
function oneWay(name: string, mode: { persistent?: boolean; owned?: boolean } = {}): ConformanceSubject {
  const receiverOnly = mode.persistent === true || mode.owned === true;
  return {
    name,
    capabilities: {
      duplex: false,
      raw: true,
      crossProcess: true,
      ...(receiverOnly ? { flows: ["remote-to-local"] as const } : {}),
      // A persistent receiver's writers write each message whole, in one write of at most PIPE_BUF bytes.
      ...(mode.persistent
        ? { survivesPeer: true, maxMessageBytes: PIPE_BUF_BYTES - 4, wholeFramesPerWrite: true }
        : {}),
    },
    async open({ flow, localCodec, remoteCodec, localMaxFrameSize }) {
      const path = join(createTempDir(), "one-way.fifo");
      const writer = mode.persistent ? "shared-writer" : "writer";
      if (!mode.owned) await createFifo(path);
      const options = {
        codec: codecByName(localCodec),
        maxFrameSize: localMaxFrameSize,
        create: mode.owned === true,
      };
      let local: LocalEnd;
      let peer: Peer;
      if (flow === "local-to-remote") {
        peer = spawnPeer(PEER, { args: ["reader", path, remoteCodec], stdio: [...IPC_STDIO] });
        local = await openFifoSender(path, { ...options, timeout: 20_000 });
      } else {
        local = await openFifoReceiver(path, { ...options, persistent: mode.persistent === true });
        peer = spawnPeer(PEER, { args: [writer, path, remoteCodec], stdio: [...IPC_STDIO] });
      }
      const raw = flow !== "local-to-remote";
      if (!mode.persistent) return pairWithPeer(local, peer, { raw });
      // The next writer is a new process that opens the FIFO by path, as a writer's successor would.
      const nextWriter = async () =>
        spawnPeer(PEER, { args: [writer, path, remoteCodec], stdio: [...IPC_STDIO] });
      return pairWithSuccessivePeers(local, peer, nextWriter, { raw });
    },
  };
}

const pair: ConformanceSubject = {
  name: "@ipc/fifo channel over two FIFOs between two processes",
  capabilities: { duplex: true, raw: false, crossProcess: true },
  async open({ localCodec, remoteCodec, localMaxFrameSize }) {
    const dir = createTempDir();
    const [ours, theirs] = [join(dir, "to-us.fifo"), join(dir, "to-them.fifo")];
    await Promise.all([createFifo(ours), createFifo(theirs)]);
    const peer = spawnPeer(PEER, { args: ["pair", ours, theirs, remoteCodec], stdio: [...IPC_STDIO] });
    const local = await openFifoChannel(ours, theirs, {
      codec: codecByName(localCodec),
      maxFrameSize: localMaxFrameSize,
      timeout: 20_000,
    });
    return pairWithPeer(local, peer, { raw: false });
  },
};

describeConformance(oneWay("@ipc/fifo one-way FIFO between two processes"));
describeConformance(oneWay("@ipc/fifo receiver that created its FIFO (create: true)", { owned: true }));
describeConformance(oneWay("@ipc/fifo persistent receiver", { persistent: true }));
describeConformance(pair);
