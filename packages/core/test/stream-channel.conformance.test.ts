import { createStreamChannel, DirectReads } from "@ipc/core";
import { codecByName, describeConformance } from "@ipc-internal/conformance";
import { connectedSocketPair } from "./fixtures/socket-pair.js";
import { socketPairSubject } from "./fixtures/socket-pair-subject.js";

for (const direct of [false, true]) {
  describeConformance({
    name: `stream channel over a Unix socket pair in one process${direct ? ", reading straight into messages" : ""}`,
    capabilities: { duplex: true, raw: true, crossProcess: false },
    async open({ localCodec, remoteCodec, localMaxFrameSize }) {
      const reads = direct ? new DirectReads() : undefined;
      const [near, far] = await connectedSocketPair(reads?.onread);
      const local = createStreamChannel(near, {
        codec: codecByName(localCodec),
        maxFrameSize: localMaxFrameSize,
        directReads: reads,
      });
      const farChannel = createStreamChannel(far, { codec: codecByName(remoteCodec) });
      return socketPairSubject(near, far, local, farChannel);
    },
  });
}
