#!/usr/bin/env node
// Runs the whole suite with node's test runner under tsx. Node 20's --test takes no globs,
// so the files are listed here: unit tests beside the code (src/**/*.test.ts) and
// black-box tests in test/*.test.ts. Extra arguments narrow the run: `npm test -- pool`.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
function find(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === "node_modules" || name === "dist") continue;
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith(".test.ts")) out.push(relative(root, p));
  }
  return out;
}
const filters = process.argv.slice(2);
let files = [...find(join(root, "src")), ...find(join(root, "test"))].sort();
if (filters.length) files = files.filter((f) => filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error(`No test files match ${filters.join(" ")}`);
  process.exit(1);
}
// Spec output for people; a TAP copy in a temp file for the plain closing line CI reads.
const tapFile = join(mkdtempSync(join(tmpdir(), "hf-tap-")), "report.tap");
const r = spawnSync(
  process.execPath,
  [
    "--import",
    "tsx",
    "--test",
    "--test-concurrency=2",
    "--test-timeout=180000",
    "--test-reporter=spec",
    "--test-reporter-destination=stdout",
    "--test-reporter=tap",
    `--test-reporter-destination=${tapFile}`,
    ...files,
  ],
  { stdio: "inherit", cwd: root },
);
const tap = existsSync(tapFile) ? readFileSync(tapFile, "utf8") : "";
const num = (k) => Number(new RegExp(`^# ${k} (\\d+)$`, "m").exec(tap)?.[1] ?? 0);
if (tap) console.log(`\n${num("pass")} passed, ${num("fail") + num("cancelled")} failed, ${num("skipped")} skipped`);
process.exit(r.status ?? 1);
