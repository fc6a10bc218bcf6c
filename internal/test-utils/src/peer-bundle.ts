import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";

// Peers are TypeScript modules. Started through tsx, each spent ~0.4 s of CPU compiling before it did
// anything; hundreds of peers per run made that most of the test time on a 2-core machine. So a package's
// fixtures are bundled once, when its test run starts (sources of the workspace packages, by their
// `@ipc/source` condition), and peers start as plain JavaScript.

/** Where the bundles of the fixtures in `fixturesDir` go (inside the package, never the OS temp dir). */
export function bundleDir(fixturesDir: string): string {
  return join(fixturesDir, "..", "..", "node_modules", ".cache", "ipc-test-peers");
}

/** The bundle of fixture `modulePath`, if the test run made one. */
export function bundledPeer(modulePath: string): string | undefined {
  if (!modulePath.endsWith(".ts")) return undefined;
  const bundle = join(bundleDir(dirname(modulePath)), `${basename(modulePath, ".ts")}.mjs`);
  return existsSync(bundle) ? bundle : undefined;
}
