/**
 * Temp directories for tests, removed when the test file's process exits. At exit rather than in
 * each test's cleanup: a failing test's files are still there while its report is written, and a
 * test may read a stopped process's log. Without this one suite run left ~100 `hf-serve-*`
 * directories in /tmp, and a day of runs ~2 000 `hf-*` of all kinds (2026-12-01).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const made = new Set<string>();
process.once("exit", () => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A new directory under the OS temp directory, named `<prefix>XXXXXX`, removed when the process exits. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.add(dir);
  return dir;
}
