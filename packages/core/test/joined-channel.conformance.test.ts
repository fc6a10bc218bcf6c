import { createStreamChannel, joinChannels } from "@ipc/core";
import { codecByName, describeConformance, serveChannel } from "@ipc-internal/conformance";
import { connectedSocketPair } from "./fixtures/socket-pair.js";

// What @ipc/fifo's channel is made of: two one-way stream channels joined into one duplex channel on
// each side, so the joined channel keeps the whole contract, closing included.
describeConformance({
  name: "two one-way stream channels joined on each side",
  capabilities: { duplex: true, raw: false, crossProcess: false },
  async open({ localCodec, remoteCodec, localMaxFrameSize }) {
    const [outNear, outFar] = await connectedSocketPair();
    const [inNear, inFar] = await connectedSocketPair();
    const local = joinChannels(
      createStreamChannel(inNear, {
        codec: codecByName(localCodec),
        maxFrameSize: localMaxFrameSize,
        direction: "receive",
      }),
      createStreamChannel(outNear, {
        codec: codecByName(localCodec),
        maxFrameSize: localMaxFrameSize,
        direction: "send",
      }),
    );
    const far = joinChannels(
      createStreamChannel(outFar, { codec: codecByName(remoteCodec), direction: "receive" }),
      createStreamChannel(inFar, { codec: codecByName(remoteCodec), direction: "send" }),
    );
    return {
      local,
      remote: serveChannel(far),
      async dispose() {
        await Promise.all([local.close({ timeout: 1000 }), far.close({ timeout: 1000 })]);
        for (const socket of [outNear, outFar, inNear, inFar]) socket.destroy();
      },
    };
  },
});
