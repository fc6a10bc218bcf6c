// Packs every published package into one directory (`packed/` by default, or the first argument): each
// pack runs the package's `prepack`, which builds it, so a clean checkout packs complete tarballs. Prints
// the tarballs' paths. Until the packages are on the registry, this is how to use them in a project:
// `npm install <path>/packed/*.tgz`.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const destination = resolve(process.argv[2] ?? join(root, "packed"));
mkdirSync(destination, { recursive: true });
for (const old of readdirSync(destination).filter((file) => file.endsWith(".tgz")))
  rmSync(join(destination, old));
// pnpm, as this script was started (pnpm sets npm_execpath for scripts), else from PATH.
const script = process.env.npm_execpath;
const [command, prefix] = script?.includes("pnpm")
  ? /\.[cm]?js$/.test(script)
    ? [process.execPath, [script]]
    : [script, []]
  : ["pnpm", []];
for (const name of readdirSync(join(root, "packages"))) {
  const dir = join(root, "packages", name);
  if (!existsSync(join(dir, "package.json"))) continue;
  execFileSync(command, [...prefix, "pack", "--pack-destination", destination], {
    cwd: dir,
    stdio: "ignore",
  });
}
for (const file of readdirSync(destination)
  .filter((file) => file.endsWith(".tgz"))
  .sort()) {
  console.log(join(destination, file));
}
