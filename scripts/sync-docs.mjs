// Copies the shared docs (docs/*.md) and the LICENSE into every published package, so each package's
// README links to files it ships and each tarball carries the licence. `--check` fails instead of writing
// when a copy differs (CI runs it).
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const SHARED = ["glossary.md", "errors.md", "wire-format.md"];
/** [source, target inside the package, banner] */
const COPIES = [
  ...SHARED.map((file) => [
    join("docs", file),
    join("docs", file),
    `<!-- A copy of docs/${file} at the repository's root, made by scripts/sync-docs.mjs: edit that one. -->\n\n`,
  ]),
  ["LICENSE", "LICENSE", ""],
];
const check = process.argv.includes("--check");
const stale = [];
for (const name of readdirSync(join(root, "packages"))) {
  const packageDir = join(root, "packages", name);
  if (!existsSync(join(packageDir, "package.json"))) continue;
  mkdirSync(join(packageDir, "docs"), { recursive: true });
  for (const [source, target, banner] of COPIES) {
    const wanted = banner + readFileSync(join(root, source), "utf8");
    const copy = join(packageDir, target);
    if (existsSync(copy) && readFileSync(copy, "utf8") === wanted) continue;
    if (check) stale.push(`packages/${name}/${target}`);
    else writeFileSync(copy, wanted);
  }
}
if (stale.length > 0) {
  console.error(`These copies differ from docs/ (run node scripts/sync-docs.mjs):\n  ${stale.join("\n  ")}`);
  process.exit(1);
}
