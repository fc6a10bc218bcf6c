import { bytes, IpcErrorCode, json, v8 } from "@ipc/core";
import { createMsgpackCodec, msgpack } from "@ipc/core/msgpack";
import { decodeWith, encodeWith } from "@ipc/core/transport";
import { describe, expect, it } from "vitest";

describe("codecs", () => {
  it("json refuses invalid UTF-8 with ERR_IPC_DECODE instead of guessing", () => {
    expect(() => decodeWith(json, Uint8Array.of(0x22, 0xc3, 0x28, 0x22))).toThrow(
      expect.objectContaining({ code: IpcErrorCode.DECODE }),
    );
  });

  it("json refuses values it cannot represent with ERR_IPC_ENCODE", () => {
    expect(() => encodeWith(json, undefined)).toThrow(expect.objectContaining({ code: IpcErrorCode.ENCODE }));
    expect(() => encodeWith(json, 1n)).toThrow(expect.objectContaining({ code: IpcErrorCode.ENCODE }));
  });

  it("json keeps __proto__ as a plain key and never touches prototypes", () => {
    const decoded = decodeWith(json, Buffer.from('{"__proto__":{"polluted":true}}')) as Record<
      string,
      unknown
    >;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
  });

  it("v8 keeps Map, Set, Date, BigInt and cycles", () => {
    const cyclic: Record<string, unknown> = {
      map: new Map([[1, new Set(["a"])]]),
      when: new Date(0),
      big: 10n ** 30n,
    };
    cyclic.self = cyclic;
    const decoded = decodeWith(v8, encodeWith(v8, cyclic)) as Record<string, unknown>;
    expect(decoded.self).toBe(decoded);
    expect(decoded.map).toEqual(new Map([[1, new Set(["a"])]]));
    expect(decoded.big).toBe(10n ** 30n);
  });

  it("v8 refuses garbage with ERR_IPC_DECODE", () => {
    expect(() => decodeWith(v8, Uint8Array.of(0xff, 0x0f, 0x99))).toThrow(
      expect.objectContaining({ code: IpcErrorCode.DECODE }),
    );
  });

  it("bytes returns plain Uint8Array views without copying, and refuses non-bytes", () => {
    const buffer = Buffer.from("abcdef");
    const view = decodeWith(bytes, buffer.subarray(1, 4));
    expect(view.constructor).toBe(Uint8Array);
    expect(view.buffer).toBe(buffer.buffer);
    expect([...view]).toEqual([...Buffer.from("bcd")]);
    expect(() => encodeWith(bytes, "text" as unknown as Uint8Array)).toThrow(
      expect.objectContaining({ code: IpcErrorCode.ENCODE }),
    );
  });

  it("msgpack writes standard MessagePack by default (no record extension)", () => {
    // map16 with one entry "a" -> 1: plain MessagePack any library reads, no msgpackr extension types.
    expect([...encodeWith(msgpack, { a: 1 })]).toEqual([0xde, 0x00, 0x01, 0xa1, 0x61, 0x01]);
    // What other libraries write (a fixmap) decodes too.
    expect(decodeWith(msgpack, Uint8Array.of(0x81, 0xa1, 0x61, 0x01))).toEqual({ a: 1 });
  });

  it("msgpack takes msgpackr options and refuses garbage with ERR_IPC_DECODE", () => {
    const codec = createMsgpackCodec({ useRecords: true });
    expect(decodeWith(codec, encodeWith(codec, [{ x: 1 }, { x: 2 }]))).toEqual([{ x: 1 }, { x: 2 }]);
    expect(() => decodeWith(msgpack, Uint8Array.of(0x92, 0x01))).toThrow(
      expect.objectContaining({ code: IpcErrorCode.DECODE }),
    );
  });
});
