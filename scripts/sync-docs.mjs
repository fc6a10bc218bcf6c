// Copies the shared docs (docs/*.md) into every published package, so each package's README links to
// files it ships. `--check` fails instead of writing when a copy differs (CI runs it).
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const SHARED = ["glossary.md", "errors.md", "wire-format.md"];
const check = process.argv.includes("--check");
const stale = [];
for (const name of readdirSync(join(root, "packages"))) {
  const target = join(root, "packages", name, "docs");
  if (!existsSync(join(root, "packages", name, "package.json"))) continue;
  mkdirSync(target, { recursive: true });
  for (const file of SHARED) {
    const source = readFileSync(join(root, "docs", file), "utf8");
    const copy = join(target, file);
    const banner = `<!-- A copy of docs/${file} at the repository's root, made by scripts/sync-docs.mjs: edit that one. -->\n\n`;
    const wanted = banner + source;
    if (existsSync(copy) && readFileSync(copy, "utf8") === wanted) continue;
    if (check) stale.push(`packages/${name}/docs/${file}`);
    else writeFileSync(copy, wanted);
  }
}
if (stale.length > 0) {
  console.error(`These copies differ from docs/ (run node scripts/sync-docs.mjs):\n  ${stale.join("\n  ")}`);
  process.exit(1);
}
