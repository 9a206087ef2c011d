// The doctor's PostgreSQL probe against the real server: it counts connections against max_connections and sees a session idle in a transaction.
import assert from "node:assert/strict";
import { test } from "node:test";
import pg from "pg";
import { probePostgres } from "../src/doctor/probes/postgres.js";
import { redactUrl } from "../src/telemetry/index.js";
import { PG_URL, requirePostgres } from "./support/postgres.js";

test("PostgreSQL probe: connections vs max_connections, idle in transaction", async (t) => {
  if (!(await requirePostgres(t))) return;
  const url = PG_URL;
  const idle = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  await idle.connect();
  try {
    await idle.query("BEGIN");
    await idle.query("SELECT 1");
    const p = await probePostgres(url);
    assert.ok((p.maxConnections ?? 0) > 0);
    assert.ok((p.connections ?? 0) >= 2, "the probe and the idle session");
    assert.ok((p.idleInTransaction ?? 0) >= 1, "the session left in BEGIN");
    assert.equal(redactUrl("postgres://app:s3cret@db/x"), "postgres://app:***@db/x");
  } finally {
    await idle.query("ROLLBACK").catch(() => {});
    await idle.end();
  }
});
