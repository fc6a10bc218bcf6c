// What a child process can do to its parent through a pipe, and what a resolved send guarantees.
import { bytes, IpcErrorCode, json } from "@ipc/core";
import type { PipedChild } from "@ipc/pipe";
import { waitUntil } from "@ipc-internal/test-utils";
import { describe, expect, it } from "vitest";
import { forkFixture } from "./fixtures/start.js";

function output(child: PipedChild): () => string {
  let text = "";
  child.process.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    text += chunk;
  });
  return () => text;
}

describe("a child that misbehaves", () => {
  it("a flood of empty messages is held back while the parent does not read (bounded memory)", async () => {
    const child = await forkFixture("hostile-child.ts", ["flood"], {
      pipes: [{ direction: "receive", codec: bytes }],
      stdio: ["ignore", "pipe", "inherit"],
    });
    const printed = output(child);
    await child.exited;
    const { sent } = JSON.parse(printed()) as { sent: number };
    // The socketpair's buffer and the parent's 1 MiB (at 64 bytes a message) hold some tens of thousands.
    expect(sent).toBeGreaterThan(1000);
    expect(sent).toBeLessThan(200_000);
    await child.close();
  });

  for (const [mode, code] of [
    ["garbage", IpcErrorCode.PROTOCOL],
    ["oversize", IpcErrorCode.FRAME_TOO_LARGE],
  ] as const) {
    it(`${mode} on the pipe closes that channel with ${code}, and the parent carries on`, async () => {
      const child = await forkFixture("hostile-child.ts", [mode], {
        pipes: [{ direction: "receive", codec: json }],
      });
      await expect(child.receiver().receive({ timeout: 5000 })).rejects.toMatchObject({ code });
      expect((await child.receiver().closed).error?.code).toBe(code);
      await child.stop(1000);
    });
  }
});

describe("what a resolved send guarantees", () => {
  it("everything sent before flush() resolved reaches the parent even if the child is killed right after", async () => {
    const child = await forkFixture("hostile-child.ts", ["flush-then-wait"], {
      pipes: [{ direction: "receive" }],
      stdio: ["ignore", "pipe", "inherit"],
    });
    const printed = output(child);
    await waitUntil(() => printed().includes("flushed"), "the child to flush");
    child.process.kill("SIGKILL");
    const receiver = child.receiver<{ i: number }>();
    for (let i = 0; i < 10_000; i += 1) expect((await receiver.receive({ timeout: 5000 })).i).toBe(i);
    await expect(receiver.receive({ timeout: 5000 })).rejects.toMatchObject({ code: IpcErrorCode.PEER_GONE });
  });
});
