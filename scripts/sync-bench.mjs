// README benchmark tables come from the committed results (benchmarks/results/<name>.md), never typed by
// hand: `node scripts/sync-bench.mjs` copies each results file into every README that marks a place for it
// (`<!-- bench:<name> -->` … `<!-- /bench:<name> -->`); `--check` fails when a README differs.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(fileURLToPath(new URL("..", import.meta.url)));
const check = process.argv.includes("--check");
const results = join(root, "benchmarks", "results");
const readmes = [
  join(root, "README.md"),
  ...readdirSync(join(root, "packages")).map((name) => join(root, "packages", name, "README.md")),
].filter((file) => existsSync(file));

let stale = 0;
for (const readme of readmes) {
  const text = readFileSync(readme, "utf8");
  const updated = text.replace(
    /<!-- bench:([a-z0-9-]+) -->\n[\s\S]*?<!-- \/bench:\1 -->/g,
    (_block, name) => {
      const file = join(results, `${name}.md`);
      if (!existsSync(file))
        throw new Error(
          `${relative(root, readme)} wants benchmarks/results/${name}.md, which does not exist`,
        );
      return `<!-- bench:${name} -->\n${readFileSync(file, "utf8").trim()}\n<!-- /bench:${name} -->`;
    },
  );
  if (updated === text) continue;
  if (check) {
    console.error(
      `${relative(root, readme)}: its benchmark table differs from benchmarks/results (run node scripts/sync-bench.mjs)`,
    );
    stale++;
  } else {
    writeFileSync(readme, updated);
    console.log(`updated ${relative(root, readme)}`);
  }
}
process.exitCode = stale === 0 ? 0 : 1;
