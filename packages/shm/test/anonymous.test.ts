import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { IpcErrorCode } from "@ipc/core";
import { createSegment, openSegment } from "@ipc/shm";
import { nodeArgsFor, trackChild } from "@ipc-internal/test-utils";
import { describe, expect, it } from "vitest";

const CHILD = fileURLToPath(new URL("./fixtures/anonymous-child.ts", import.meta.url));

describe("anonymous segments (Linux)", () => {
  // memfd_create is Linux-only (documented).
  it.runIf(process.platform === "linux")(
    "hands memory to a child through stdio, with nothing in /dev/shm at any time",
    async () => {
      const before = readdirSync("/dev/shm").length;
      using segment = createSegment(4096);
      expect(readdirSync("/dev/shm").length).toBe(before);
      const children = [0, 1].map(() => {
        const child = spawn(process.execPath, [...nodeArgsFor(CHILD), "100000"], {
          stdio: ["ignore", "inherit", "inherit", segment.fd],
        });
        return trackChild(child).exited;
      });
      expect(await Promise.all(children)).toEqual([
        { code: 0, signal: null },
        { code: 0, signal: null },
      ]);
      expect(Atomics.load(new Int32Array(segment.buffer, 0, 1), 0)).toBe(200_000);
    },
  );

  it("refuses descriptors that are not numbers, or have no memory behind them", () => {
    expect(() => openSegment({ fd: -1 })).toThrow(
      expect.objectContaining({ code: IpcErrorCode.INVALID_ARGUMENT }),
    );
    expect(() => openSegment({ fd: 1e9 })).toThrow(
      expect.objectContaining({ code: IpcErrorCode.SYSTEM, errno: "EBADF" }),
    );
  });
});
