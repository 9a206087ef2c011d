#!/usr/bin/env node
// Is the suite steady on a busy machine? Runs rounds of N whole suites side by side (CI=true, so a
// missing service fails instead of skipping) and stops at the first round with a failure. Two suites
// at once on a 2-core machine is the load under which timing-dependent tests show themselves.
// Each suite's output goes to a file in a temp directory, named in the summary; the directory is
// removed when every round passed.
//
//   npm run test:rounds -- [--rounds 5] [--suites 2] [filters passed to run-tests.mjs…]
import { spawn } from "node:child_process";
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const root = new URL("..", import.meta.url).pathname;
const { values, positionals } = parseArgs({
  options: { rounds: { type: "string", default: "5" }, suites: { type: "string", default: "2" } },
  allowPositionals: true,
});
const rounds = Number(values.rounds);
const suites = Number(values.suites);
for (const [name, n] of [
  ["--rounds", rounds],
  ["--suites", suites],
]) {
  if (!Number.isInteger(n) || n < 1 || n > 20) {
    console.error(`${name} must be a whole number from 1 to 20 (got ${JSON.stringify(n)}).`);
    process.exit(2);
  }
}
const out = mkdtempSync(join(tmpdir(), "hf-rounds-"));

/** Runs one whole suite; resolves to its exit code and its closing "N passed, M failed" line. */
function suite(file) {
  return new Promise((resolve) => {
    const log = createWriteStream(file);
    const child = spawn(process.execPath, [join(root, "scripts/run-tests.mjs"), ...positionals], {
      cwd: root,
      env: { ...process.env, CI: "true" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.on("close", (code) => {
      log.end(() => {
        const last = /^\d+ passed, \d+ failed, \d+ skipped$/m.exec(readFileSync(file, "utf8").split("\n").slice(-20).join("\n"));
        resolve({ code: code ?? 1, summary: last?.[0] ?? "no summary line (the runner stopped early)" });
      });
    });
  });
}

for (let r = 1; r <= rounds; r++) {
  const t0 = performance.now();
  const files = Array.from({ length: suites }, (_, i) => join(out, `round${r}-suite${i + 1}.txt`));
  const results = await Promise.all(files.map(suite));
  const secs = Math.round((performance.now() - t0) / 1000);
  console.log(`round ${r}/${rounds} (${secs} s): ${results.map((x, i) => `suite ${i + 1}: ${x.summary}`).join("; ")}`);
  const failed = results.findIndex((x) => x.code !== 0);
  if (failed >= 0) {
    console.error(`Round ${r} failed. The failing suite's output: ${files[failed]} (search it for ✖). Outputs of every suite: ${out}`);
    process.exit(1);
  }
}
rmSync(out, { recursive: true, force: true });
console.log(`${rounds} rounds of ${suites} suites side by side passed.`);
