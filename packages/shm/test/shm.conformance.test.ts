import { fileURLToPath } from "node:url";
import { createShmChannel, openShmChannel } from "@ipc/shm";
import {
  type ConformanceSubject,
  codecByName,
  describeConformance,
  pairWithPeer,
  serveChannel,
} from "@ipc-internal/conformance";
import { spawnPeer } from "@ipc-internal/test-utils";
import type { ShmChannelEnd } from "../src/shm-channel.js";

const PEER = fileURLToPath(new URL("./fixtures/shm-peer.ts", import.meta.url));
let counter = 0;
const freshName = () => `ipc-test-${process.pid}-conf-${(counter += 1)}`;
// 1 MiB rings except for the subject that keeps the default (4 MiB): a ring holds up to a million empty
// messages, and the check that floods one with them takes ~16 s at 4 MiB.
const capacity = 1 << 20;

const inProcess: ConformanceSubject = {
  name: "@ipc/shm channel, both ends in one process",
  capabilities: { duplex: true, raw: true, crossProcess: false },
  async open({ localCodec, remoteCodec, localMaxFrameSize }) {
    const name = freshName();
    const local = createShmChannel({
      name,
      capacity,
      codec: codecByName(localCodec),
      maxFrameSize: localMaxFrameSize,
    });
    // The far end writes raw bytes through the channel's internal test hook.
    const far = openShmChannel(name, { codec: codecByName(remoteCodec) }) as ShmChannelEnd<unknown>;
    return {
      local,
      remote: serveChannel(far, async (bytes) => far.writeRaw(bytes)),
      async dispose() {
        await Promise.all([local.close({ timeout: 1000 }), far.close({ timeout: 1000 })]);
      },
    };
  },
};

const byName: ConformanceSubject = {
  name: "@ipc/shm channel to another process that opens it by name",
  capabilities: { duplex: true, raw: true, crossProcess: true },
  async open({ localCodec, remoteCodec, localMaxFrameSize }) {
    const name = freshName();
    const local = createShmChannel({
      name,
      capacity,
      codec: codecByName(localCodec),
      maxFrameSize: localMaxFrameSize,
    });
    const peer = spawnPeer(PEER, { args: [name, remoteCodec] });
    return pairWithPeer(local, peer, { raw: true });
  },
};

/** An anonymous channel handed to a child by descriptor; `spin` for both ends, rings of `ringBytes` (default: the default). */
function childByDescriptor(name: string, spin?: number, ringBytes?: number): ConformanceSubject {
  return {
    name,
    capabilities: { duplex: true, raw: true, crossProcess: true },
    async open({ localCodec, remoteCodec, localMaxFrameSize }) {
      const codec = codecByName(localCodec);
      const local = createShmChannel({ codec, maxFrameSize: localMaxFrameSize, spin, capacity: ringBytes });
      const spinArgs = spin === undefined ? [] : [String(spin)];
      const peer = spawnPeer(PEER, {
        args: ["fd:4", remoteCodec, ...spinArgs],
        stdio: ["ignore", "inherit", "inherit", "ipc", local.fd!],
      });
      return pairWithPeer(local, peer, { raw: true });
    },
  };
}

describeConformance(inProcess);
describeConformance(byName);
describeConformance(
  childByDescriptor("@ipc/shm anonymous channel handed to a child by descriptor, default settings"),
);
// Neither end spins: every wake-up goes through the doorbell.
describeConformance(
  childByDescriptor("@ipc/shm anonymous channel to a child, neither end spinning", 0, capacity),
);
