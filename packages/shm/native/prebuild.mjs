// Maintainers: `node native/prebuild.mjs` rebuilds the shipped linux-x64 binary from source and records
// the hash of the sources it came from (a test fails when the sources change and the binary does not).
import { execFileSync } from "node:child_process";
import { copyFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { nativeSourceHash } from "./source-hash.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const target = join(root, "prebuilds", `${process.platform}-${process.arch}`);
execFileSync(process.execPath, [join(root, "native", "build.mjs")], {
  cwd: root,
  env: { ...process.env, npm_config_build_from_source: "true" },
  stdio: "inherit",
});
copyFileSync(join(root, "build", "Release", "ipc_shm.node"), join(target, "ipc_shm.node"));
execFileSync("strip", ["--strip-unneeded", join(target, "ipc_shm.node")]);
writeFileSync(join(target, "SOURCE_SHA256"), `${nativeSourceHash()}\n`);
console.log(`@ipc/shm: ${target}/ipc_shm.node rebuilt`);
