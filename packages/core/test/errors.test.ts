import { inspect } from "node:util";
import { IpcError, IpcErrorCode, isIpcError } from "@ipc/core";
import { toIpcError } from "@ipc/core/transport";
import { describe, expect, it } from "vitest";

describe("IpcError", () => {
  it("carries a stable code and the optional system details", () => {
    const cause = new Error("inner");
    const error = new IpcError(IpcErrorCode.SYSTEM, "failed", {
      cause,
      errno: "EACCES",
      syscall: "open",
      path: "/x",
    });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: "IpcError",
      code: "ERR_IPC_SYSTEM",
      errno: "EACCES",
      syscall: "open",
      path: "/x",
    });
    expect(error.cause).toBe(cause);
  });

  it("prints only the details it has (no `exitCode: undefined`)", () => {
    const printed = inspect(new IpcError(IpcErrorCode.TIMEOUT, "too slow"));
    expect(printed).toContain("code: 'ERR_IPC_TIMEOUT'");
    expect(printed).not.toContain("undefined");
    expect(inspect(new IpcError(IpcErrorCode.PEER_GONE, "gone", { exitCode: 3 }))).toContain("exitCode: 3");
  });

  it("is recognised by isIpcError, with or without a code", () => {
    const error = new IpcError(IpcErrorCode.TIMEOUT, "slow");
    expect(isIpcError(error)).toBe(true);
    expect(isIpcError(error, "ERR_IPC_TIMEOUT")).toBe(true);
    expect(isIpcError(error, "ERR_IPC_CLOSED")).toBe(false);
    expect(isIpcError(new Error("plain"))).toBe(false);
    expect(isIpcError({ code: "ERR_IPC_TIMEOUT" })).toBe(false);
    expect(isIpcError(null)).toBe(false);
  });

  it("is recognised across a duplicate copy of @ipc/core", async () => {
    // A query string makes the module loader instantiate the module a second time, like a duplicate install.
    const duplicatePath = "../src/errors.ts?duplicate";
    const copy = (await import(/* @vite-ignore */ duplicatePath)) as typeof import("../src/errors.js");
    expect(copy.IpcError).not.toBe(IpcError);
    const foreign = new copy.IpcError("ERR_IPC_CLOSED", "from the other copy");
    expect(foreign).not.toBeInstanceOf(IpcError);
    expect(isIpcError(foreign, "ERR_IPC_CLOSED")).toBe(true);
    expect(copy.isIpcError(new IpcError("ERR_IPC_AUTH", "x"), "ERR_IPC_AUTH")).toBe(true);
  });

  it("maps a broken connection to ERR_IPC_PEER_GONE and other system errors to ERR_IPC_SYSTEM", () => {
    const reset = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET", syscall: "read" });
    expect(toIpcError(reset, "receive")).toMatchObject({
      code: "ERR_IPC_PEER_GONE",
      errno: "ECONNRESET",
      syscall: "read",
    });
    const denied = Object.assign(new Error("denied"), { code: "EACCES", syscall: "open", path: "/p" });
    expect(toIpcError(denied, "open")).toMatchObject({ code: "ERR_IPC_SYSTEM", errno: "EACCES", path: "/p" });
    const original = new IpcError(IpcErrorCode.AUTH, "no");
    expect(toIpcError(original, "x")).toBe(original);
  });
});
