import { defineConfig } from "tsup";
import { packageBuild } from "../../tsup.base.js";

// The Redis backend is its own entry, and node-redis an optional peer: local-only users install nothing more.
export default defineConfig({
  ...packageBuild,
  entry: { index: "src/index.ts", redis: "src/redis/index.ts" },
  external: ["@redis/client"],
});
