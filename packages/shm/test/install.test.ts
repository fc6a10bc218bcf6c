import { execFileSync } from "node:child_process";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTempDir } from "@ipc-internal/test-utils";
import { describe, expect, it } from "vitest";

const packagesDir = fileURLToPath(new URL("../..", import.meta.url));
// Segments, an async lock wait (the addon's waiter threads) and a channel, through the packed CommonJS build.
const smoke = `
const { createSegment, openSegment, SharedLock, createShmChannel, openShmChannel } = require("@ipc/shm");
(async () => {
  const name = "ipc-test-${process.pid}-install-" + process.argv[1];
  const a = createSegment(32, { name });
  const b = openSegment(name);
  new Uint8Array(a.buffer)[0] = 9;
  a.unlink();
  const lock = new SharedLock(a.buffer, 8);
  const held = lock.lockSync();
  const waiting = new SharedLock(b.buffer, 8).lock({ timeout: 5000 });
  setTimeout(() => held.unlock(), 20);
  (await waiting).unlock();
  const left = createShmChannel({ name: name + "-channel" });
  const right = openShmChannel(name + "-channel");
  await left.send("channel");
  console.log(new Uint8Array(b.buffer)[0], await right.receive({ timeout: 5000 }));
  await Promise.all([left.close(), right.close()]);
  a.close();
  b.close();
})();
`;

/** pnpm, as the test runner was started (pnpm sets npm_execpath for scripts), else from PATH. */
function pnpm(args: string[], cwd: string): string {
  const script = process.env.npm_execpath;
  let [command, prefix]: [string, string[]] = ["pnpm", []];
  if (script?.includes("pnpm"))
    [command, prefix] = /\.[cm]?js$/.test(script) ? [process.execPath, [script]] : [script, []];
  return execFileSync(command, [...prefix, ...args], {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}

describe("installing the packed packages", () => {
  it("installs @ipc/shm from its tarball with npm and with pnpm, and it works", () => {
    const dir = createTempDir();
    for (const name of ["core", "shm"]) {
      const packageDir = join(packagesDir, name);
      execFileSync(join(packageDir, "node_modules", ".bin", "tsup"), [], {
        cwd: packageDir,
        stdio: "ignore",
      });
      pnpm(["pack", "--pack-destination", dir], packageDir);
    }
    const tarballs = readdirSync(dir)
      .filter((file) => file.endsWith(".tgz"))
      .map((file) => join(dir, file));
    expect(tarballs).toHaveLength(2);

    const withNpm = join(dir, "npm-consumer");
    execFileSync("mkdir", [withNpm]);
    writeFileSync(join(withNpm, "package.json"), '{ "name": "npm-consumer", "private": true }');
    // npm resolves @ipc/shm's dependency on @ipc/core to the tarball given in the same command.
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", ...tarballs], {
      cwd: withNpm,
      stdio: "ignore",
    });
    expect(
      execFileSync(process.execPath, ["-e", smoke, "npm"], { cwd: withNpm, encoding: "utf8" }).trim(),
    ).toBe("9 channel");

    // pnpm 12 runs no dependency build script unless allowed: with it refused, the prebuilt binary serves.
    const withPnpm = join(dir, "pnpm-consumer");
    execFileSync("mkdir", [withPnpm]);
    writeFileSync(join(withPnpm, "package.json"), '{ "name": "pnpm-consumer", "private": true }');
    // @ipc/shm depends on @ipc/core, which is not published yet: point it at its tarball.
    const core = tarballs.find((file) => file.includes("ipc-core"))!;
    writeFileSync(
      join(withPnpm, "pnpm-workspace.yaml"),
      `allowBuilds:\n  "@ipc/shm": false\nupdateNotifier: false\noverrides:\n  "@ipc/core": "file:${core}"\n`,
    );
    pnpm(["add", ...tarballs], withPnpm);
    expect(
      execFileSync(process.execPath, ["-e", smoke, "pnpm"], { cwd: withPnpm, encoding: "utf8" }).trim(),
    ).toBe("9 channel");
  }, 180_000);
});
