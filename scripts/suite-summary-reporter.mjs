// A node:test reporter for scripts/run-tests.mjs. It prints nothing; when the run ends it writes to
// the path in HOLDFAST_TEST_REPORT `{ counts, seconds }`: the run's closing counts (pass, fail,
// cancelled, skipped…) for the plain last line CI reads, and the time of the top-level tests added up
// by the file that declares them, from which `--record-durations` rewrites test/durations.json (the
// runner starts the longest files first: a 48 s file started last keeps a 2-core machine half idle
// for most of a minute). A test declared in a shared helper (test/support/db-contract.ts) is counted
// under the helper; the runner keeps only the files it ran.
import { writeFileSync } from "node:fs";
import { relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;

export default async function* report(source) {
  const seconds = {};
  const counts = {};
  for await (const event of source) {
    const { type, data } = event;
    if ((type === "test:pass" || type === "test:fail") && data.nesting === 0 && data.file) {
      const file = relative(root, data.file);
      seconds[file] = (seconds[file] ?? 0) + (data.details?.duration_ms ?? 0) / 1000;
    }
    if (type === "test:diagnostic" && data.nesting === 0) {
      const m = /^(tests|suites|pass|fail|cancelled|skipped|todo) (\d+)$/.exec(data.message);
      if (m) counts[m[1]] = Number(m[2]);
    }
  }
  const out = process.env.HOLDFAST_TEST_REPORT;
  if (out) writeFileSync(out, JSON.stringify({ counts, seconds }));
  yield "";
}
