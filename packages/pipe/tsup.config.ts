import { defineConfig } from "tsup";
import { packageBuild } from "../../tsup.base.js";

// process-child is the entry point of a child started by Process.start(): it must be a file of its own.
export default defineConfig({ ...packageBuild, entry: ["src/index.ts", "src/process-child.ts"] });
