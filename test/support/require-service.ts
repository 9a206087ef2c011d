/**
 * The one gate for tests that need something from the machine (nginx, HAProxy, wrk, PostgreSQL,
 * Redis, a tmpfs mount): skip loudly when it is missing and CI is unset, fail when CI=true
 * (.ci/run provides them), so a missing service never passes silently in CI.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { type TestContext, test } from "node:test";

/** Fails `t` under CI=true, else skips it with `why` printed where a person running the suite sees it. */
export function missingService(t: Pick<TestContext, "skip">, why: string): void {
  if (process.env.CI === "true") assert.fail(why);
  console.error(`\n*** SKIPPED: ${why} ***\n`);
  t.skip(why);
}

/** For a file whose every test needs the service: one test named `name` that skips loudly or fails under CI. */
export function missingServiceTest(name: string, why: string): void {
  test(name, (t) => missingService(t, why));
}

/** Where `name` is installed: the first of `candidates` that exists (sbin first: a user's PATH often lacks it), else PATH. */
export function findBinary(name: string, candidates: string[] = [`/usr/sbin/${name}`, `/usr/bin/${name}`, `/usr/local/sbin/${name}`]): string | undefined {
  for (const c of candidates) if (existsSync(c)) return c;
  const which = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  return which.status === 0 && which.stdout.trim() ? which.stdout.trim() : undefined;
}

/** The binary's path, or undefined after skipping/failing the test. */
export function requireBinary(t: TestContext, name: string, candidates?: string[]): string | undefined {
  const found = findBinary(name, candidates);
  if (found) return found;
  missingService(t, `${name} is not installed — apt-get install -y ${name} to run this test`);
  return undefined;
}
