// The entry point of a child started by `Process.start()`: receives what to run over its pipe, rebuilds
// the shared objects, imports the module that exports the target or subclass, and runs it. An error is
// printed to stderr and exits with code 1, as Python's does.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { openParentChannel } from "./parent-pipes.js";
import { type ChildReport, childIdentity, childTarget, Process, type ProcessSpec } from "./process.js";
import { loadExport } from "./process-locate.js";
import { unpackValues } from "./shared-args.js";

const FIRST_INHERITED_FD = 4; // fd 3 is the pipe this spec came by

async function main(): Promise<void> {
  const channel = openParentChannel<ProcessSpec | ChildReport>(0); // the v8 codec, as the parent set it up
  const spec = (await channel.receive()) as ProcessSpec;
  childIdentity.name = spec.name;
  let exported: unknown;
  let args: unknown[];
  let fields: Record<string, unknown>;
  try {
    exported = await loadExport(spec.location);
    const first = spec.location.modules[0]!;
    const from = first.startsWith("file:") ? fileURLToPath(first) : first;
    const load = async (packageName: string) => {
      await import(createRequire(from).resolve(packageName));
    };
    ({ args, fields } = (await unpackValues(
      { args: spec.args, fields: spec.fields },
      spec.shared,
      FIRST_INHERITED_FD,
      load,
    )) as { args: unknown[]; fields: Record<string, unknown> });
  } catch (error) {
    const code = (error as { code?: string }).code ?? "ERR_IPC_INVALID_ARGUMENT";
    await channel.send({ error: { code, message: error instanceof Error ? error.message : String(error) } });
    await channel.close();
    process.exitCode = 1;
    return;
  }
  await channel.send({});
  if (spec.daemon) {
    // The parent keeps the pipe open while it lives: when it closes, this child ends too.
    void channel.closed.then(() => process.kill(process.pid, "SIGTERM"));
  } else {
    void channel.close();
  }
  if (spec.kind === "subclass") {
    const instance = Object.create((exported as { prototype: object }).prototype) as Process<unknown[]>;
    Object.assign(instance, fields);
    await instance.run(...args);
  } else {
    const target = exported as (...args: unknown[]) => unknown;
    const instance = Object.create(Process.prototype) as Process<unknown[]>;
    childTarget.set(instance, target);
    await target(...args);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
