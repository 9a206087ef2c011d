/**
 * PostgreSQL for tests: the server from HOLDFAST_TEST_PG_URL (default the local test database),
 * a reachability gate that skips loudly outside CI and fails in CI, and unique names so
 * parallel test files never touch each other's tables or connections.
 */
import { randomBytes } from "node:crypto";
import type { TestContext } from "node:test";
import pg from "pg";
import { missingService } from "./require-service.js";

/** Where the tests connect. */
export const PG_URL = process.env.HOLDFAST_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";

let reachable: Promise<string | undefined> | undefined;

/** undefined when PostgreSQL answers, else why not. */
export function probe(): Promise<string | undefined> {
  reachable ??= (async () => {
    const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
    c.on("error", () => {});
    try {
      await c.connect();
      await c.query("select 1");
      return undefined;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    } finally {
      await c.end().catch(() => {});
    }
  })();
  return reachable;
}

/** True when the test may run; otherwise skips it (CI unset) or fails it (CI=true). */
export async function requirePostgres(t: TestContext): Promise<boolean> {
  const why = await probe();
  if (why === undefined) return true;
  missingService(t, unreachableMessage(why));
  return false;
}

/** What a skipped or failed PostgreSQL test says: where it looked (without a password) and why it failed. */
export function unreachableMessage(why: string): string {
  return `PostgreSQL unreachable at ${PG_URL.replace(/:[^:@/]*@/, "@")} (${why}) — start it to run this test`;
}

/** A name unique to this test process and call: `prefix_<pid>_<hex>`. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString("hex")}`;
}

/** Runs one statement on a fresh admin connection (outside any pool under test). */
export async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
  const c = new pg.Client({ connectionString: PG_URL, application_name: "holdfast-test-admin" });
  c.on("error", () => {});
  await c.connect();
  try {
    return (await c.query<R>(text, values)).rows;
  } finally {
    await c.end().catch(() => {});
  }
}

/** How many backends the server lists for application_name `app`. */
export async function backendCount(app: string): Promise<number> {
  return (await adminQuery<{ n: number }>("select count(*)::int as n from pg_stat_activity where application_name = $1", [app]))[0]?.n ?? 0;
}

/** Terminates every backend whose application_name is `app`; returns how many. */
export async function terminateApp(app: string): Promise<number> {
  const rows = await adminQuery<{ ok: boolean }>(
    "select pg_terminate_backend(pid) as ok from pg_stat_activity where application_name = $1 and pid <> pg_backend_pid()",
    [app],
  );
  return rows.filter((r) => r.ok).length;
}
