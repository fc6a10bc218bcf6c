import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { TYPESCRIPT_NODE_ARGS } from "@ipc-internal/test-utils";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const smoke = `
import { createSegment, openSegment } from "@ipc/shm";
import { nativeShmPath } from "./src/native.ts";
const name = "ipc-test-${process.pid}-loader-" + process.argv[1];
const a = createSegment(16, { name });
const b = openSegment(name);
new Uint8Array(a.buffer)[0] = 7;
a.unlink();
console.log(new Uint8Array(b.buffer)[0], nativeShmPath().split("/").slice(-3).join("/"));
a.close();
b.close();
`;

function runSmoke(env: NodeJS.ProcessEnv, tag: string): string {
  return execFileSync(process.execPath, [...TYPESCRIPT_NODE_ARGS, "--input-type=module", "-e", smoke, tag], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: "utf8",
  }).trim();
}

describe("native addon loader", () => {
  it.runIf(`${process.platform}-${process.arch}` === "linux-x64")(
    "ships a prebuilt binary built from the current sources (node native/prebuild.mjs refreshes it)",
    async () => {
      const { nativeSourceHash } = await import("../native/source-hash.mjs");
      const recorded = readFileSync(`${root}prebuilds/linux-x64/SOURCE_SHA256`, "utf8").trim();
      expect(recorded).toBe(nativeSourceHash());
    },
  );

  // linux-x64 is the only prebuilt shipped.
  it.runIf(`${process.platform}-${process.arch}` === "linux-x64")(
    "works with the prebuilt linux-x64 binary shipped in the package",
    () => {
      expect(existsSync(`${root}prebuilds/linux-x64/ipc_shm.node`)).toBe(true);
      expect(runSmoke({}, "prebuilt")).toBe("7 prebuilds/linux-x64/ipc_shm.node");
    },
  );

  it("works with a binary built from source at install, when asked to prefer it", () => {
    if (!existsSync(`${root}build/Release/ipc_shm.node`)) {
      // The install step skipped the build because the prebuilt loaded; build now, as --build-from-source would.
      execFileSync(process.execPath, ["native/build.mjs"], {
        cwd: root,
        env: { ...process.env, npm_config_build_from_source: "true" },
        stdio: "ignore",
      });
    }
    expect(runSmoke({ IPC_SHM_PREFER_BUILD: "1" }, "built")).toBe("7 build/Release/ipc_shm.node");
  });
});
