// Builds the addon with the node-gyp that comes with pnpm/npm, against the headers installed next to
// this Node (pnpm 12 ignores nodedir from .npmrc, and node-gyp would otherwise try to download them).
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

const prefix = dirname(dirname(process.execPath));
const args = ["rebuild"];
if (existsSync(join(prefix, "include", "node", "node_api.h"))) args.push(`--nodedir=${prefix}`);
execFileSync("node-gyp", args, { stdio: "inherit", shell: process.platform === "win32" });
