// `node dist/render.js`: renders benchmarks/results/bench.{md,svg} and bench-shm.md again from the committed
// bench.json, its measurements as they were, with this code's wording, labels and targets (after a change of
// the report's text; `node scripts/sync-bench.mjs` then copies the tables into the READMEs).
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { relabel, renderMarkdown, renderShmMarkdown, type Summary } from "./report.js";
import { renderSvg } from "./svg.js";

const results = fileURLToPath(new URL("../results/", import.meta.url));
const summary = relabel(JSON.parse(readFileSync(`${results}bench.json`, "utf8")) as Summary);
writeFileSync(`${results}bench.json`, `${JSON.stringify(summary, null, 2)}\n`);
writeFileSync(`${results}bench.md`, renderMarkdown(summary));
writeFileSync(`${results}bench.svg`, renderSvg(summary));
writeFileSync(`${results}bench-shm.md`, renderShmMarkdown(summary));
console.log(`rendered ${results}bench.{md,svg} and bench-shm.md from bench.json`);
