// The SHA-256 of everything the addon is built from, in a stable order.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Hash of binding.gyp and native/*.cc / *.h. */
export function nativeSourceHash() {
  const hash = createHash("sha256");
  const sources = readdirSync(join(root, "native"))
    .filter((name) => name.endsWith(".cc") || name.endsWith(".h"))
    .sort()
    .map((name) => join("native", name));
  for (const file of ["binding.gyp", ...sources]) {
    hash.update(file);
    hash.update(readFileSync(join(root, file)));
  }
  return hash.digest("hex");
}
