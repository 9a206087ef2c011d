// A process that exits the moment its logger exists must exit, with its lines in the file.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

test("process.exit right after the logger is created exits 0 and keeps the line (file opened before the first write)", () => {
  const dir = mkdtempSync(join(tmpdir(), "hf-logger-exit-"));
  try {
    const file = join(dir, "logs", "app.log");
    const logger = new URL("./logger.ts", import.meta.url).href;
    // Before: the file opened in the background, and pino's exit-time flush threw
    // "sonic boom is not ready yet" inside process.exit (a starting worker told to stop hung).
    const script = `import { createLogger } from ${JSON.stringify(logger)};
const log = await createLogger({ file: ${JSON.stringify(file)}, level: "info", pretty: "never" });
log.info({ event: "worker.drain" }, "asked to stop before serving; exiting");
process.exit(0);`;
    const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8", timeout: 20_000 });
    assert.equal(r.status, 0, `exit ${r.status} signal ${r.signal}\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, /not ready/);
    assert.match(readFileSync(file, "utf8"), /asked to stop before serving/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
