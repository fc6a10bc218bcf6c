// Node libraries users pick instead of ours (zeromq, node-ipc), installed on demand into
// benchmarks/external (its own package.json pins them; not part of the workspace), so that a benchmark
// run needs nothing more than `pnpm bench` and a repository install does not download them.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const HERE = fileURLToPath(new URL("../external/", import.meta.url));

let installed: boolean | undefined;

/** Installs the external libraries once (npm, from the pinned package.json); false when that fails. */
export function installExternal(): boolean {
  if (installed !== undefined) return installed;
  if (existsSync(`${HERE}node_modules/zeromq`) && existsSync(`${HERE}node_modules/node-ipc`))
    return (installed = true);
  try {
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], {
      cwd: HERE,
      stdio: "ignore",
      timeout: 180_000,
    });
    installed = true;
  } catch {
    installed = false;
  }
  return installed;
}

/** `require` of a library installed there, or undefined when it is not available. */
export function loadExternal<T>(name: string): T | undefined {
  try {
    return createRequire(`${HERE}package.json`)(name) as T;
  } catch {
    return undefined;
  }
}
