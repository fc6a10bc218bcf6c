import type { Options } from "tsup";

/** What every published package builds: ESM + CJS + .d.ts for Node 20, with source maps. */
export const packageBuild: Options = {
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "node20",
};
