import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { build, type Plugin } from "esbuild";
import { bundleDir } from "./peer-bundle.js";

// Spelled in parts so that this file, if it is ever bundled, is not rewritten by its own plugin.
const META = ["import", "meta"].join(".");

/**
 * `import.meta.url` / `.filename` / `.dirname` keep meaning the original source file inside the bundle, so
 * a module that finds files next to itself (a native addon, another fixture) still finds them.
 */
const keepModuleLocation: Plugin = {
  name: "keep-module-location",
  setup(setup) {
    setup.onLoad({ filter: /\.[cm]?ts$/ }, (args) => {
      const source = readFileSync(args.path, "utf8");
      const contents = source
        .replaceAll(`${META}.url`, JSON.stringify(pathToFileURL(args.path).href))
        .replaceAll(`${META}.filename`, JSON.stringify(args.path))
        .replaceAll(`${META}.dirname`, JSON.stringify(dirname(args.path)));
      return { contents, loader: "ts" };
    });
  },
};

/** Bundles every `*.ts` fixture directly in `fixturesDir`, one self-contained ES module each. */
async function bundlePeers(fixturesDir: string): Promise<void> {
  if (!existsSync(fixturesDir)) return;
  const entryPoints = readdirSync(fixturesDir)
    .filter((name) => name.endsWith(".ts"))
    .map((name) => join(fixturesDir, name));
  if (entryPoints.length === 0) return;
  await build({
    entryPoints,
    outdir: bundleDir(fixturesDir),
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    conditions: ["@ipc/source"],
    // msgpackr's optional native speed-up is never built here; its require is guarded.
    external: ["msgpackr-extract"],
    plugins: [keepModuleLocation],
    // Bundled CommonJS dependencies call require(): give each ES module one.
    banner: {
      js: "import { createRequire as __peerRequire } from 'node:module'; const require = __peerRequire(import.meta.url);",
    },
    logLevel: "error",
  });
}

/** Vitest global setup: bundles the project's `test/fixtures` once, before any test starts a peer. */
export default async function setup(project: { config: { root: string } }): Promise<void> {
  await bundlePeers(join(project.config.root, "test", "fixtures"));
}
