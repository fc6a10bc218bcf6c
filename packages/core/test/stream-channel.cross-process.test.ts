import type { Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { createStreamChannel } from "@ipc/core";
import { codecByName, describeConformance, pairWithPeer } from "@ipc-internal/conformance";
import { spawnPeer } from "@ipc-internal/test-utils";

const PEER = fileURLToPath(new URL("./fixtures/stream-peer.ts", import.meta.url));

for (const reading of ["data events", "direct reads"]) {
  describeConformance({
    name: `stream channel over a socketpair to a child process (the child reading ${reading})`,
    capabilities: { duplex: true, raw: true, crossProcess: true },
    async open({ localCodec, remoteCodec, localMaxFrameSize }) {
      // fd 4 of the child is one end of a socketpair; the parent holds the other as child.stdio[4].
      const peer = spawnPeer(PEER, {
        args: [remoteCodec, reading],
        stdio: ["ignore", "inherit", "inherit", "ipc", "pipe"],
      });
      const socket = peer.child.stdio[4] as Socket;
      const local = createStreamChannel(socket, {
        codec: codecByName(localCodec),
        maxFrameSize: localMaxFrameSize,
      });
      return pairWithPeer(local, peer, {
        raw: true,
        async closeLocal() {
          await local.close({ timeout: 1000 });
          socket.destroy();
          peer.child.disconnect?.();
        },
      });
    },
  });
}
