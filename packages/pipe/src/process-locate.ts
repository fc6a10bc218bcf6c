import { extname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { IpcError } from "@ipc/core";
import { PipeErrorCode } from "./errors.js";

/** This module's own file, in both builds (ES module and CommonJS). */
export const HERE: string = typeof __filename === "string" ? pathToFileURL(__filename).href : import.meta.url;

/** The child's entry point: `process-child` beside this file, with this file's extension. */
export function bootstrapPath(): string {
  return fileURLToPath(new URL(`./process-child${extname(fileURLToPath(HERE))}`, HERE));
}

/**
 * The files of the functions that called into this module, nearest first, as URLs: where a `Process`
 * target or subclass is looked for when no `module` is given.
 */
export function callerModules(): string[] {
  const original = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  let sites: NodeJS.CallSite[] = [];
  try {
    Error.prepareStackTrace = (_error, callSites) => callSites;
    Error.stackTraceLimit = 20;
    const holder: { stack?: NodeJS.CallSite[] } = {};
    Error.captureStackTrace(holder);
    sites = holder.stack ?? [];
  } finally {
    Error.prepareStackTrace = original;
    Error.stackTraceLimit = limit;
  }
  const files: string[] = [];
  for (const site of sites) {
    const file = site.getFileName();
    if (file === undefined || file === null || file.startsWith("node:")) continue;
    const url = file.startsWith("file:") ? file : pathToFileURL(file).href;
    if (url === HERE || files.includes(url)) continue;
    files.push(url);
  }
  return files;
}

/**
 * Where the child finds a target or subclass: by its name among the exports of these modules, in order
 * (as Python's pickle finds a function by module and name). The parent does not import the modules
 * itself: one of them is usually the main module, still running its top-level code.
 */
export interface ExportLocation {
  readonly modules: readonly string[];
  readonly name: string;
}

/** The location of `value` (a function or class) among `modules`. @throws `ERR_IPC_PIPE_NOT_EXPORTED` when it has no name */
export function exportLocation(
  value: { name: string },
  modules: readonly string[],
  what: string,
): ExportLocation {
  if (value.name === "" || modules.length === 0) {
    throw new IpcError(
      PipeErrorCode.NOT_EXPORTED,
      `${what} has no name${modules.length === 0 ? " and no module" : ""}: export a named function or class from a module, and pass that module as the \`module\` option if it is not the caller's`,
    );
  }
  return { modules, name: value.name };
}

/** In the child: the export named by `location`. @throws `ERR_IPC_PIPE_NOT_EXPORTED` */
export async function loadExport(location: ExportLocation): Promise<unknown> {
  const failures: string[] = [];
  for (const module of location.modules) {
    let namespace: Record<string, unknown>;
    try {
      namespace = (await import(module)) as Record<string, unknown>;
    } catch (error) {
      failures.push(`${module}: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    const found = findIn(namespace, location.name) ?? findIn(namespace.default, location.name);
    if (found !== undefined) return found;
  }
  throw new IpcError(
    PipeErrorCode.NOT_EXPORTED,
    `${location.name} is not exported by ${location.modules.join(", ")}; the child imports the module to find it, so export it (export function / export class), or pass the module that exports it as the \`module\` option${failures.length > 0 ? ` (could not import: ${failures.join("; ")})` : ""}`,
  );
}

function findIn(namespace: unknown, name: string): unknown {
  if (namespace === null || (typeof namespace !== "object" && typeof namespace !== "function"))
    return undefined;
  const exports = namespace as Record<string, unknown>;
  if (typeof exports[name] === "function") return exports[name];
  for (const value of Object.values(exports)) {
    if (typeof value === "function" && value.name === name) return value;
  }
  return undefined;
}
