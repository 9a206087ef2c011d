#!/usr/bin/env node
// Runs the whole suite with node's test runner under tsx. Node 20's --test takes no globs,
// so the files are listed here: unit tests beside the code (src/**/*.test.ts, all in one process:
// scripts/unit-tests.ts) and black-box tests in test/**/*.test.ts, each in its own process, three at
// a time (HOLDFAST_TEST_CONCURRENCY overrides), the longest first (test/durations.json). Three, not two:
// most files wait on child processes and sockets, so two left a 2-core VM half idle (Node 20 suite
// 318 s at two, 219 s at three on an Intel VM; 277 s and 237 s for the Node 20 and 24 suites on an AMD
// one, every test passing; four files at once, two suites side by side at two each, starved
// load-sensitive tests of CPU on an AMD VM: .ci/run). Extra arguments narrow the run: `npm test -- pool`.
// `npm test -- --record-durations` rewrites test/durations.json from the run (do it on a whole run
// when files were added or got much slower or faster; a file it does not list starts after those it does).
// A file whose opening lines say `@run-alone` runs after the rest, one such file at a time with nothing
// beside it: its bounds are about the product, and two other files' CPU on a 2-core machine breaks them
// (test/reliability/postgres-outage.test.ts shed 53 of 147 requests before any fault in a full CI run on
// a slow AMD VM, 2026-12-02, and none of 150 alone).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const UNIT_ENTRY = "scripts/unit-tests.ts";
const DURATIONS = join(root, "test/durations.json");
/** Seconds assumed for a file test/durations.json does not list: after the long ones, before the quick ones. */
const UNKNOWN_SECONDS = 10;

function find(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === "node_modules" || name === "dist") continue;
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith(".test.ts")) out.push(relative(root, p));
  }
  return out;
}
const args = process.argv.slice(2);
const record = args.includes("--record-durations");
const filters = args.filter((a) => a !== "--record-durations");
const matches = (f) => filters.length === 0 || filters.some((x) => f.includes(x));
const units = find(join(root, "src")).sort().filter(matches);
const blackBox = find(join(root, "test")).sort().filter(matches);
if (units.length + blackBox.length === 0) {
  console.error(`No test files match ${filters.join(" ")}`);
  process.exit(1);
}
const concurrency = process.env.HOLDFAST_TEST_CONCURRENCY ?? "3";
if (!/^[1-9][0-9]*$/.test(concurrency)) {
  console.error(
    `HOLDFAST_TEST_CONCURRENCY must be a whole number of test files to run at once (1 or more), not "${concurrency}"; unset it for the default of 3.`,
  );
  process.exit(2);
}
if (record && filters.length > 0) {
  console.error("--record-durations needs the whole suite (it rewrites test/durations.json); drop the filters.");
  process.exit(2);
}
let known = {};
try {
  known = JSON.parse(readFileSync(DURATIONS, "utf8"));
} catch {
  // No figures (or unreadable ones): files start in name order, which is only slower.
}
const RUN_ALONE = /^\s*(\/\/|\*|\/\*).*@run-alone/m;
const alone = blackBox.filter((f) => RUN_ALONE.test(readFileSync(join(root, f), "utf8").split("\n", 8).join("\n")));
const files = [...(units.length ? [UNIT_ENTRY] : []), ...blackBox.filter((f) => !alone.includes(f))];
files.sort((a, b) => (known[b] ?? UNKNOWN_SECONDS) - (known[a] ?? UNKNOWN_SECONDS));

// Spec output for people; the summary reporter's counts and per-file times in a temp file, for the
// plain closing line CI reads and for --record-durations.
const tmp = mkdtempSync(join(tmpdir(), "hf-tests-"));

/** Runs `list` under node --test, `at` files at once; the summary reporter's { counts, seconds } and the exit status. */
function runPhase(list, at, name) {
  const reportFile = join(tmp, `${name}.json`);
  const r = spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      "--test",
      `--test-concurrency=${at}`,
      "--test-timeout=180000",
      "--test-reporter=spec",
      "--test-reporter-destination=stdout",
      `--test-reporter=${join(root, "scripts/suite-summary-reporter.mjs")}`,
      "--test-reporter-destination=stdout",
      ...list,
    ],
    { stdio: "inherit", cwd: root, env: { ...process.env, HOLDFAST_UNIT_TESTS: units.join("\n"), HOLDFAST_TEST_REPORT: reportFile } },
  );
  const report = existsSync(reportFile) ? JSON.parse(readFileSync(reportFile, "utf8")) : undefined;
  return { report, status: r.status ?? 1 };
}

const phases = [];
if (files.length) phases.push(runPhase(files, concurrency, "together"));
if (alone.length) {
  console.log(`\n===== ${alone.length} file${alone.length > 1 ? "s" : ""} marked @run-alone, one at a time =====`);
  phases.push(runPhase(alone, "1", "alone"));
}
const reports = phases.map((p) => p.report);
const report = reports.every(Boolean)
  ? reports.reduce((a, b) => ({
      counts: Object.fromEntries([...new Set([...Object.keys(a.counts), ...Object.keys(b.counts)])].map((k) => [k, (a.counts[k] ?? 0) + (b.counts[k] ?? 0)])),
      seconds: { ...a.seconds, ...b.seconds },
    }))
  : undefined;
if (report) {
  const n = (k) => report.counts[k] ?? 0;
  console.log(`\n${n("pass")} passed, ${n("fail") + n("cancelled")} failed, ${n("skipped")} skipped`);
}
if (record && report) {
  const ran = [...files, ...alone];
  const sorted = Object.entries(report.seconds)
    .filter(([f]) => ran.includes(f))
    .sort(([a], [b]) => a.localeCompare(b));
  writeFileSync(DURATIONS, `${JSON.stringify(Object.fromEntries(sorted.map(([f, s]) => [f, Math.round(s * 10) / 10])), null, 2)}\n`);
  console.log(`test/durations.json: ${sorted.length} files recorded`);
}
rmSync(tmp, { recursive: true, force: true });
process.exit(phases.find((p) => p.status !== 0)?.status ?? 0);
