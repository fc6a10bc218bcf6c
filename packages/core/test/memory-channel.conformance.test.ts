import { createMemoryChannelPair } from "@ipc/core";
import { codecByName, describeConformance, serveChannel } from "@ipc-internal/conformance";

describeConformance({
  name: "memory channel pair",
  capabilities: { duplex: true, raw: false, crossProcess: false },
  async open({ localCodec, remoteCodec, localMaxFrameSize }) {
    const [local, far] = createMemoryChannelPair(
      { codec: codecByName(localCodec), maxFrameSize: localMaxFrameSize },
      { codec: codecByName(remoteCodec) },
    );
    return {
      local,
      remote: serveChannel(far),
      async dispose() {
        await Promise.all([local.close(), far.close()]);
      },
    };
  },
});
