import { defineConfig } from "tsup";
import { packageBuild } from "../../tsup.base.js";

// msgpackr stays an optional peer dependency, loaded only through the msgpack entry.
export default defineConfig({
  ...packageBuild,
  entry: ["src/index.ts", "src/transport.ts", "src/msgpack.ts"],
  external: ["msgpackr"],
});
