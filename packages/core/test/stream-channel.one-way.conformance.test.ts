import { createStreamChannel } from "@ipc/core";
import { codecByName, describeConformance } from "@ipc-internal/conformance";
import { connectedSocketPair } from "./fixtures/socket-pair.js";
import { socketPairSubject } from "./fixtures/socket-pair-subject.js";

// One-way ends (direction "send" / "receive"), as pipes and FIFOs give: checks the one-way rules of
// the channel and the suite's one-way gating before those transports rely on it.
describeConformance({
  name: "one-way stream channel ends over a Unix socket pair",
  capabilities: { duplex: false, raw: true, crossProcess: false },
  async open({ flow, localCodec, remoteCodec, localMaxFrameSize }) {
    const [near, far] = await connectedSocketPair();
    const outbound = flow === "local-to-remote";
    const local = createStreamChannel(near, {
      codec: codecByName(localCodec),
      maxFrameSize: localMaxFrameSize,
      direction: outbound ? "send" : "receive",
    });
    const farChannel = createStreamChannel(far, {
      codec: codecByName(remoteCodec),
      direction: outbound ? "receive" : "send",
    });
    return socketPairSubject(near, far, local, farChannel);
  },
});
