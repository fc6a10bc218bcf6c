// Every README's code must work as written: `pnpm check:readmes` (after `pnpm build`) puts each README's
// TypeScript and JavaScript blocks in an empty project that installs the built packages, type-checks the
// TypeScript in strict mode and compiles it for Node 20 (as `tsc` would for a user), checks the
// JavaScript's syntax on this Node, runs the programs a README marks with `<!-- run: … -->`, and checks
// that every relative link in a package's README points at a file the package ships.
//
// A block names its file on its first line (`// parent.ts`); `<!-- run: parent.ts -->` runs it (exit 0
// within 30 s), and `<!-- run: server.ts & client.ts -->` starts the first, runs the second, then stops
// the first.
import { spawn, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(fileURLToPath(new URL("..", import.meta.url)));
const RUN_TIMEOUT_MS = 30_000;
/** How long a background program may take to end by itself after the other program ran. */
const BACKGROUND_GRACE_MS = 3000;
const failures = [];
const packages = readdirSync(join(root, "packages")).filter((name) =>
  existsSync(join(root, "packages", name, "package.json")),
);
const readmes = [
  join(root, "README.md"),
  ...packages.map((name) => join(root, "packages", name, "README.md")),
];

for (const readme of readmes) {
  const where = relative(root, readme);
  const text = readFileSync(readme, "utf8");
  checkLinks(readme, text, where);
  const { blocks, runs } = extract(text, where);
  if (blocks.length === 0) continue;
  const project = mkdtempSync(join(tmpdir(), "ipc-readme-"));
  try {
    prepare(project, blocks);
    if (blocks.some((block) => block.file.endsWith(".ts"))) {
      const tsc = spawnSync(join(root, "node_modules", ".bin", "tsc"), ["-p", project], { encoding: "utf8" });
      if (tsc.status !== 0)
        failures.push(`${where}: TypeScript does not compile:\n${tsc.stdout}${tsc.stderr}`);
    }
    for (const block of blocks.filter((block) => block.file.endsWith(".js"))) {
      const check = spawnSync(process.execPath, ["--check", join(project, "out", block.file)], {
        encoding: "utf8",
      });
      if (check.status !== 0)
        failures.push(
          `${where}: ${block.file} is not valid JavaScript on Node ${process.version}:\n${check.stderr}`,
        );
    }
    for (const run of runs) await runProgram(project, run, where);
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
  console.log(`${where}: ${blocks.length} block(s) checked, ${runs.length} program(s) run`);
}

if (failures.length > 0) {
  console.error(`\n${failures.join("\n\n")}`);
  process.exit(1);
}

/** The named code blocks and run markers of a README. */
function extract(text, where) {
  const blocks = [];
  const runs = [];
  let index = 0;
  for (const match of text.matchAll(/(?:<!-- run: ([^>]+?) -->\s*\n)?```(ts|js)\n([\s\S]*?)```/g)) {
    const [, run, language, code] = match;
    const named = /^\/\/ ([\w.-]+\.(?:ts|js))\b/.exec(code);
    const file = named?.[1] ?? `block-${(index += 1)}.${language}`;
    if (!file.endsWith(`.${language}`)) failures.push(`${where}: block ${file} is tagged ${language}`);
    blocks.push({ file, code });
    if (run) runs.push(run.split("&").map((part) => part.trim()));
  }
  return { blocks, runs };
}

/** An empty project with the built packages installed (linked) and the blocks as files. */
function prepare(project, blocks) {
  writeFileSync(
    join(project, "package.json"),
    '{ "name": "readme-check", "private": true, "type": "module" }',
  );
  mkdirSync(join(project, "node_modules", "@ipc"), { recursive: true });
  for (const name of packages)
    symlinkSync(join(root, "packages", name), join(project, "node_modules", "@ipc", name));
  writeFileSync(
    join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        lib: ["ES2023", "ESNext.Disposable"],
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        types: ["node"],
        typeRoots: [join(root, "node_modules", "@types")],
        outDir: "out",
        rootDir: ".",
        skipLibCheck: true,
      },
      include: ["*.ts"],
    }),
  );
  mkdirSync(join(project, "out"));
  cpSync(join(project, "package.json"), join(project, "out", "package.json"));
  for (const { file, code } of blocks) {
    writeFileSync(join(project, file), code);
    if (file.endsWith(".js")) writeFileSync(join(project, "out", file), code);
  }
  // Programs run from out/: let them find the packages there too.
  symlinkSync(join(project, "node_modules"), join(project, "out", "node_modules"));
}

/** Runs `[program]` or `[background, program]` in the project's out/ directory. */
async function runProgram(project, parts, where) {
  const cwd = join(project, "out");
  const script = (file) => file.replace(/\.ts$/, ".js");
  const background =
    parts.length > 1 ? spawn(process.execPath, [script(parts[0])], { cwd, stdio: "ignore" }) : undefined;
  try {
    if (background) await new Promise((resolve) => setTimeout(resolve, 1500));
    const main = parts.at(-1);
    const result = spawnSync(process.execPath, [script(main)], {
      cwd,
      encoding: "utf8",
      timeout: RUN_TIMEOUT_MS,
    });
    if (result.status !== 0) {
      failures.push(
        `${where}: running ${parts.join(" & ")} failed (status ${result.status}, ${result.signal ?? "no signal"}):\n${result.stdout}${result.stderr}`,
      );
    }
  } finally {
    // A background program that ends by itself once the other has run (a reader, a segment's creator)
    // gets to clean up after itself; a server that never ends is killed after a grace period.
    if (background && background.exitCode === null && background.signalCode === null) {
      const exited = new Promise((resolve) => background.once("exit", resolve));
      const timer = setTimeout(() => background.kill("SIGKILL"), BACKGROUND_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
  }
}

/** Relative links of a package README must name files the package ships; the root README's, files of the repository. */
function checkLinks(readme, text, where) {
  const base = dirname(readme);
  const isPackage = base !== root;
  const shipped = isPackage ? JSON.parse(readFileSync(join(base, "package.json"), "utf8")).files : undefined;
  for (const [, target] of text.matchAll(/\]\(([^)]+)\)/g)) {
    if (/^[a-z]+:/i.test(target) || target.startsWith("#")) continue;
    const path = target.split("#")[0];
    if (!existsSync(join(base, path))) failures.push(`${where}: the link ${target} points at nothing`);
    else if (
      isPackage &&
      (path.startsWith("..") || !shipped.some((entry) => path === entry || path.startsWith(`${entry}/`)))
    ) {
      failures.push(
        `${where}: the link ${target} points outside what the package ships (${shipped.join(", ")})`,
      );
    }
  }
}
