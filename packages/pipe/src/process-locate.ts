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

/** Where an export lives: its module, and its path in the module's namespace (["Counter"], ["default", "run"]). */
export interface ExportLocation {
  readonly module: string;
  readonly path: readonly string[];
}

/** Finds `value` among the exports of `modules` (in order). @throws `ERR_IPC_PIPE_NOT_EXPORTED` */
export async function locateExport(
  value: unknown,
  modules: readonly string[],
  what: string,
): Promise<ExportLocation> {
  for (const module of modules) {
    let namespace: Record<string, unknown>;
    try {
      namespace = (await import(module)) as Record<string, unknown>;
    } catch {
      continue;
    }
    const path = findIn(namespace, value);
    if (path !== undefined) return { module, path };
  }
  throw new IpcError(
    PipeErrorCode.NOT_EXPORTED,
    `${what} is not exported by ${modules.length === 1 ? modules[0] : `any of ${modules.join(", ")}`}; the child imports a module to find it, so export it (export function / export class), or pass the module that exports it as the \`module\` option (import.meta.url in that module)`,
  );
}

function findIn(namespace: Record<string, unknown>, value: unknown): string[] | undefined {
  for (const key of Object.keys(namespace)) if (namespace[key] === value) return [key];
  const cjs = namespace.default;
  if (cjs !== null && (typeof cjs === "object" || typeof cjs === "function")) {
    for (const key of Object.keys(cjs))
      if ((cjs as Record<string, unknown>)[key] === value) return ["default", key];
  }
  return undefined;
}

/** The export at `location`, in this process. */
export async function loadExport(location: ExportLocation): Promise<unknown> {
  let value: unknown = await import(location.module);
  for (const key of location.path) value = (value as Record<string, unknown>)[key];
  return value;
}
