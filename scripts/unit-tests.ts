// The unit tests beside the code (src/**/*.test.ts) in one process: scripts/run-tests.mjs runs this
// file instead of starting a test process per file. Apart, the 68 files cost 67 s of CPU and 41 s on
// a 2-core machine, nearly all of it starting Node and tsx 68 times; together 7 s of CPU (2026-12-01).
// Each file's tests stay grouped under a suite named after the file. The runner passes the files,
// relative to the checkout, one per line in HOLDFAST_UNIT_TESTS.
import { describe } from "node:test";
import { pathToFileURL } from "node:url";

const root = new URL("../", import.meta.url);
const files = (process.env.HOLDFAST_UNIT_TESTS ?? "").split("\n").filter(Boolean);
if (files.length === 0) throw new Error("HOLDFAST_UNIT_TESTS names no test files: run the unit tests with `npm test` (scripts/run-tests.mjs).");
for (const file of files) {
  describe(file, async () => {
    await import(pathToFileURL(new URL(file, root).pathname).href);
  });
}
