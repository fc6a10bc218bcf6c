import { IpcError, IpcErrorCode } from "@ipc/core";
import { describeForChild, isShareable, reviverFor, type SharedDescription } from "@ipc/core/transport";

/** Where a shared object sat in the values handed to a child: its index in the descriptions. */
const PLACEHOLDER = "@ipc/shared";

/** Values made ready to cross to a child: shared objects replaced by placeholders, their descriptions apart. */
export interface PackedValues {
  readonly values: unknown;
  readonly shared: SharedDescription[];
  /** The descriptors every description needs, in order. */
  readonly fds: number[];
}

/**
 * Replaces every shared object (a queue, a lock, a segment...) found in `values` (through arrays and plain
 * objects) by a placeholder, and collects how the child rebuilds each. The rest is left to structured
 * clone. @throws `ERR_IPC_INVALID_ARGUMENT` for a function, which cannot cross
 */
export function packValues(values: unknown): PackedValues {
  const shared: SharedDescription[] = [];
  const fds: number[] = [];
  const seen = new Map<object, number>();
  const pack = (value: unknown, path: string): unknown => {
    if (isShareable(value)) {
      let index = seen.get(value);
      if (index === undefined) {
        const description = describeForChild(value);
        index = shared.length;
        shared.push(description);
        fds.push(...(description.fds ?? []));
        seen.set(value, index);
      }
      return { [PLACEHOLDER]: index };
    }
    if (typeof value === "function") {
      throw new IpcError(
        IpcErrorCode.INVALID_ARGUMENT,
        `${path} is a function, which cannot be handed to another process; export it from a module and pass its name, or pass data`,
      );
    }
    if (Array.isArray(value)) return value.map((item, i) => pack(item, `${path}[${i}]`));
    if (isPlainObject(value)) {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) out[key] = pack(item, `${path}.${key}`);
      return out;
    }
    return value;
  };
  return { values: pack(values, "the value"), shared, fds };
}

/**
 * In the child: rebuilds the shared objects (each package's reviver; `load` imports a package that is not
 * loaded yet) and puts them where their placeholders are.
 */
export async function unpackValues(
  values: unknown,
  shared: readonly SharedDescription[],
  firstFd: number,
  load: (packageName: string) => Promise<void>,
): Promise<unknown> {
  const revived: unknown[] = [];
  let fd = firstFd;
  for (const description of shared) {
    let reviver = reviverFor(description.package);
    if (reviver === undefined) {
      await load(description.package);
      reviver = reviverFor(description.package);
    }
    if (reviver === undefined) {
      throw new IpcError(
        IpcErrorCode.UNSUPPORTED,
        `cannot rebuild a ${description.kind} from ${description.package} in the child: the package did not load there`,
      );
    }
    const count = description.fds?.length ?? 0;
    const childFds = Array.from({ length: count }, (_, i) => fd + i);
    fd += count;
    revived.push(await reviver(description, childFds));
  }
  const unpack = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(unpack);
    if (isPlainObject(value)) {
      const index = (value as Record<string, unknown>)[PLACEHOLDER];
      if (typeof index === "number" && Object.keys(value).length === 1) return revived[index];
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) out[key] = unpack(item);
      return out;
    }
    return value;
  };
  return unpack(values);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
