// Install step: use the prebuilt binary for this platform when it loads, else build the addon with the
// node-gyp that comes with npm/pnpm, against the headers installed next to this Node when they are there
// (pnpm 12 ignores nodedir from .npmrc, and node-gyp would otherwise try to download them).
// `npm_config_build_from_source=true` (npm's `--build-from-source`) always builds.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const prebuilt = join(root, "prebuilds", `${process.platform}-${process.arch}`, "ipc_shm.node");
const fromSource = ["true", "1", "@ipc/shm"].includes(process.env.npm_config_build_from_source ?? "");

if (!fromSource && existsSync(prebuilt)) {
  try {
    createRequire(import.meta.url)(prebuilt);
    console.log(`@ipc/shm: using the prebuilt binary ${prebuilt}`);
    process.exit(0);
  } catch (error) {
    console.log(`@ipc/shm: the prebuilt binary does not load here (${error.message}); building from source`);
  }
}
// Building needs node-addon-api's headers: an optional peer dependency, since users of the prebuilt
// binary never build.
try {
  createRequire(join(root, "package.json")).resolve("node-addon-api");
} catch {
  console.error(
    "@ipc/shm: no prebuilt binary loads here, and building from source needs node-addon-api: run `npm install node-addon-api` (and python3, make and a C++17 compiler), then `npm rebuild @ipc/shm`",
  );
  process.exit(1);
}
const prefix = dirname(dirname(process.execPath));
const args = ["rebuild"];
if (existsSync(join(prefix, "include", "node", "node_api.h"))) args.push(`--nodedir=${prefix}`);
// npm and pnpm put their node-gyp on PATH for install scripts; run by hand, fall back to npm's own copy.
const bundled = join(prefix, "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js");
const nodeGyp = process.env.npm_config_node_gyp ?? (existsSync(bundled) ? bundled : undefined);
if (nodeGyp?.endsWith(".js")) {
  execFileSync(process.execPath, [nodeGyp, ...args], { cwd: root, stdio: "inherit" });
} else {
  execFileSync("node-gyp", args, { cwd: root, stdio: "inherit", shell: process.platform === "win32" });
}
