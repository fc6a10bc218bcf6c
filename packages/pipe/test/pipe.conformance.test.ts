import type { ChannelDirection } from "@ipc/core";
import {
  type ConformanceSubject,
  codecByName,
  describeConformance,
  type Flow,
  remoteEndInProcess,
  waitForRemoteReady,
} from "@ipc-internal/conformance";
import { forkFixture } from "./fixtures/start.js";

const DIRECTIONS: Record<Flow, ChannelDirection> = {
  both: "duplex",
  "local-to-remote": "send",
  "remote-to-local": "receive",
};

function subject(name: string, duplex: boolean): ConformanceSubject {
  return {
    name,
    capabilities: { duplex, raw: true, crossProcess: true },
    async open({ flow, localCodec, remoteCodec, localMaxFrameSize }) {
      const direction = DIRECTIONS[flow];
      const child = await forkFixture("conformance-peer.ts", [remoteCodec], {
        pipes: [{ direction, codec: codecByName(localCodec), maxFrameSize: localMaxFrameSize }],
        nodeIpc: "advanced",
      });
      const local =
        direction === "duplex" ? child.channel() : direction === "send" ? child.sender() : child.receiver();
      await waitForRemoteReady(child.process);
      return {
        local,
        remote: remoteEndInProcess(child.process, true),
        async killRemote() {
          child.process.kill("SIGKILL");
          await child.exited;
        },
        async dispose() {
          await local.close({ timeout: 1000 });
          if (child.process.connected) child.process.disconnect();
          await child.stop(2000);
        },
      };
    },
  };
}

describeConformance(subject("@ipc/pipe duplex pipe to a child process", true));
describeConformance(subject("@ipc/pipe one-way pipes to a child process", false));
