import type { JsonValue } from "./codecs/json.js";
import { IpcError, IpcErrorCode } from "./errors.js";

/**
 * The method a shared object (a queue, a lock, a segment) implements to describe itself to a child
 * process, so that the child can rebuild it (`Process` args in @ipc/pipe). The description names the
 * package that rebuilds it; the child finds that package's reviver with {@link reviverFor}.
 */
export const describeShared: unique symbol = Symbol.for("@ipc/core.describeShared.v1") as never;

/** What a child needs to rebuild a shared object: plain data and the descriptors it must inherit. */
export interface SharedDescription {
  /** The package whose reviver rebuilds it ("@ipc/queue"). */
  readonly package: string;
  /** What to rebuild, in that package's terms ("queue", "lock"). */
  readonly kind: string;
  /** Plain data the reviver needs. */
  readonly data: JsonValue;
  /** Descriptors of this process the child must inherit; the reviver gets the child's numbers for them, in order. */
  readonly fds?: readonly number[];
}

/** An object that can be handed to a child process. */
export interface Shareable {
  [describeShared](): SharedDescription;
}

/** Rebuilds a shared object in a child from its description and the descriptors it inherited. */
export type Reviver = (description: SharedDescription, fds: readonly number[]) => unknown;

/** True for an object that can describe itself to a child process. */
export function isShareable(value: unknown): value is Shareable {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Partial<Shareable>)[describeShared] === "function"
  );
}

// One table per process, on globalThis, so every copy of every package (ESM and CommonJS builds) finds it.
const REVIVERS = Symbol.for("@ipc/core.revivers.v1");

function revivers(): Map<string, Reviver> {
  const holder = globalThis as Record<symbol, Map<string, Reviver> | undefined>;
  holder[REVIVERS] ??= new Map();
  return holder[REVIVERS];
}

/** Registers the reviver of a package's shared objects (each such package does so when it loads). */
export function registerReviver(packageName: string, reviver: Reviver): void {
  revivers().set(packageName, reviver);
}

/** The reviver a loaded package registered, or undefined when it is not loaded in this process. */
export function reviverFor(packageName: string): Reviver | undefined {
  return revivers().get(packageName);
}

/** The description of a shareable object. @throws `ERR_IPC_INVALID_ARGUMENT` when it is not shareable */
export function describeForChild(value: unknown): SharedDescription {
  if (!isShareable(value)) {
    throw new IpcError(IpcErrorCode.INVALID_ARGUMENT, "this object cannot be handed to another process");
  }
  return value[describeShared]();
}
