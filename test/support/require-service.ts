/**
 * Gate for tests that need a program from the machine (nginx, HAProxy, wrk): skip loudly
 * when it is missing and CI is unset, fail when CI=true (.ci/run installs them).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import type { TestContext } from "node:test";

/** The binary's path, or undefined after skipping/failing the test. */
export function requireBinary(t: TestContext, name: string, candidates: string[] = []): string | undefined {
  for (const c of candidates) if (existsSync(c)) return c;
  const which = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  const msg = `${name} is not installed — apt-get install -y ${name} to run this test`;
  if (process.env.CI === "true") assert.fail(msg);
  console.error(`\n*** SKIPPED: ${msg} ***\n`);
  t.skip(msg);
  return undefined;
}
