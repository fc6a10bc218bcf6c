// What a hostile or careless other process can do to a FIFO end, and what it cannot.
import { chownSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { IpcErrorCode, isIpcError } from "@ipc/core";
import { createFifo, FifoErrorCode, openFifoReceiver, openFifoSender } from "@ipc/fifo";
import { createTempDir, spawnPeer } from "@ipc-internal/test-utils";
import { describe, expect, it } from "vitest";

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const IPC_STDIO = ["ignore", "inherit", "inherit", "ipc"] as const;
const nextMessage = (child: { once(event: "message", listener: (message: unknown) => void): void }) =>
  new Promise<unknown>((resolve) => child.once("message", resolve));
const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;

describe("files another user planted", () => {
  it.runIf(isRoot)(
    "refuses a FIFO another user owns, for reading, writing and create: true, unless trust is any",
    async () => {
      const dir = createTempDir();
      const path = join(dir, "app.fifo");
      await createFifo(path);
      chownSync(path, NOBODY, NOBODY); // what another user's mkfifo at this path leaves
      for (const open of [
        () => openFifoReceiver(path),
        () => openFifoReceiver(path, { create: true }),
        () => openFifoSender(path, { wait: false }),
        () => openFifoSender(path, { timeout: 200 }),
        () => createFifo(path, { exclusive: false }),
      ]) {
        await expect(open()).rejects.toMatchObject({ code: FifoErrorCode.UNSAFE, path });
      }
      await using receiver = await openFifoReceiver(path, { trust: "any" });
      await using sender = await openFifoSender(path, { trust: "any", wait: false });
      await sender.send("shared on purpose");
      expect(await receiver.receive({ timeout: 5000 })).toBe("shared on purpose");
    },
  );

  it("refuses a symbolic link at the path, even to a FIFO of its own", async () => {
    const dir = createTempDir();
    const real = join(dir, "real.fifo");
    const link = join(dir, "link.fifo");
    await createFifo(real);
    symlinkSync(real, link);
    await expect(openFifoReceiver(link)).rejects.toMatchObject({ code: FifoErrorCode.UNSAFE });
    await expect(openFifoReceiver(link, { create: true })).rejects.toMatchObject({
      code: FifoErrorCode.UNSAFE,
    });
    await expect(openFifoSender(link, { wait: false })).rejects.toMatchObject({ code: FifoErrorCode.UNSAFE });
    await expect(createFifo(link, { exclusive: false })).rejects.toMatchObject({
      code: FifoErrorCode.UNSAFE,
    });
    await (await openFifoReceiver(link, { trust: "any" })).close();
  });

  it("refuses a FIFO its group or others may write into", async () => {
    const dir = createTempDir();
    for (const mode of [0o620, 0o602]) {
      const path = join(dir, `mode-${mode.toString(8)}.fifo`);
      await createFifo(path, { mode });
      await expect(openFifoReceiver(path)).rejects.toMatchObject({ code: FifoErrorCode.UNSAFE });
      await expect(openFifoSender(path, { wait: false })).rejects.toMatchObject({
        code: FifoErrorCode.UNSAFE,
      });
    }
    // Readable by others is the owner's choice, and allowed.
    const readable = join(dir, "readable.fifo");
    await createFifo(readable, { mode: 0o644 });
    await (await openFifoReceiver(readable)).close();
  });

  it.runIf(isRoot)("refuses a FIFO swapped in for ours in a directory others may write", async () => {
    const dir = join(createTempDir(), "shared");
    mkdirSync(dir, { mode: 0o1777 });
    const path = join(dir, "app.fifo");
    await createFifo(path);
    chownSync(path, NOBODY, NOBODY);
    await expect(openFifoReceiver(path, { create: true })).rejects.toMatchObject({
      code: FifoErrorCode.UNSAFE,
    });
  });
});

describe("writers that follow one another on a persistent receiver", () => {
  it("never joins a dead writer's half message with the next writer's messages", async () => {
    const path = join(createTempDir(), "served.fifo");
    const gone: string[] = [];
    await using receiver = await openFifoReceiver<unknown>(path, {
      create: true,
      persistent: true,
      codec: {
        name: "json-or-bytes",
        encode: (v) => Buffer.from(JSON.stringify(v)),
        decode: (b) => (b.byteLength === 3 ? [...b] : JSON.parse(Buffer.from(b).toString())),
      },
      onWriterGone: (error) => gone.push(error.code),
    });
    // The next writer has the FIFO open before the first one dies: the reader never sees an end of file
    // between them, so only the frames themselves can keep their bytes apart.
    const next = spawnPeer(fixture("waiting-writer.ts"), { args: [path, "3"], stdio: [...IPC_STDIO] });
    expect(await nextMessage(next.child)).toBe("open");
    const dying = spawnPeer(fixture("partial-writer.ts"), { args: [path], stdio: [...IPC_STDIO] });
    expect(await nextMessage(dying.child)).toBe("half written");
    dying.child.kill("SIGKILL");
    await dying.exited;
    expect(await receiver.receive({ timeout: 5000 })).toEqual([1, 2, 3]);
    next.child.send("go");
    const received = [];
    for (let i = 0; i < 3; i += 1) received.push(await receiver.receive({ timeout: 5000 }));
    expect(received).toEqual([0, 1, 2].map((seq) => ({ from: "next", seq })));
    expect(gone).toEqual([IpcErrorCode.PEER_GONE]);
    await next.exited;
  });
});

describe("floods", () => {
  it("holds back a writer of empty messages when the reader does not read (bounded memory)", async () => {
    const path = join(createTempDir(), "flood.fifo");
    await using receiver = await openFifoReceiver(path, { create: true });
    const writer = spawnPeer(fixture("waiting-writer.ts"), {
      args: [path, "0", "empty"],
      stdio: [...IPC_STDIO],
    });
    expect(await nextMessage(writer.child)).toBe("open");
    writer.child.send("go");
    const { sent } = (await nextMessage(writer.child)) as { sent: number };
    // The pipe holds 64 KiB (16,384 empty frames) and the reader's buffer 1 MiB at 64 bytes a message
    // (16,384 more): the writer must have been made to wait long before 200,000.
    expect(sent).toBeGreaterThan(1000);
    expect(sent).toBeLessThan(200_000);
    await receiver.close();
    await writer.exited;
  });

  it("closes the receiver with a protocol error on garbage, delivering what came before", async () => {
    const path = join(createTempDir(), "garbage.fifo");
    await using receiver = await openFifoReceiver(path, { create: true });
    await using sender = await openFifoSender(path, { wait: false });
    await sender.send("before");
    await sender.flush(); // in the pipe before the garbage below
    const { openSync, writeSync, closeSync, constants } = await import("node:fs");
    const raw = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    writeSync(raw, Buffer.from([0xff, 0x00, 0x12, 0x34, 1, 2, 3]));
    closeSync(raw);
    expect(await receiver.receive({ timeout: 5000 })).toBe("before");
    const error = await receiver.receive({ timeout: 5000 }).catch((caught: unknown) => caught);
    expect(
      isIpcError(error) &&
        [IpcErrorCode.PROTOCOL, IpcErrorCode.FRAME_TOO_LARGE].includes(error.code as never),
    ).toBe(true);
  });
});
