/** PostgreSQL probe: connections vs max_connections, idle in transaction, lock waits, long queries. */
import type pg from "pg";
import { importOptional } from "../../optional/index.js";
import { redactUrl } from "../../telemetry/index.js";

/** What the PostgreSQL probe saw. */
export interface PostgresProbe {
  /** URL without the password. */
  url: string;
  connections?: number | undefined;
  maxConnections?: number | undefined;
  reserved?: number | undefined;
  idleInTransaction?: number | undefined;
  oldestIdleInTransactionS?: number | undefined;
  waitingLocks?: number | undefined;
  longQueries?: { pid: number; seconds: number; query: string }[] | undefined;
}

/** Probes PostgreSQL with one short-lived connection (5 s connect timeout). */
export async function probePostgres(url: string): Promise<PostgresProbe> {
  const { default: pgModule } = await importOptional<{ default: typeof pg }>("pg", "The database to check is a postgres:// URL");
  const client = new pgModule.Client({ connectionString: url, connectionTimeoutMillis: 5000, statement_timeout: 5000 });
  await client.connect();
  try {
    const one = async (sql: string) => (await client.query(sql)).rows[0] as Record<string, unknown>;
    const n = (v: unknown) => (v === null || v === undefined ? undefined : Number(v));
    const c = await one("SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = 'client backend'");
    const max = await one("SELECT current_setting('max_connections') AS max, current_setting('superuser_reserved_connections') AS reserved");
    const idle = await one(
      "SELECT count(*) AS n, COALESCE(max(EXTRACT(EPOCH FROM now() - state_change)), 0) AS oldest FROM pg_stat_activity WHERE state = 'idle in transaction'",
    );
    const locks = await one("SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'");
    const long = await client.query(
      "SELECT pid, EXTRACT(EPOCH FROM now() - query_start) AS s, left(query, 200) AS q FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() AND now() - query_start > interval '30 seconds' ORDER BY s DESC LIMIT 5",
    );
    return {
      url: redactUrl(url),
      connections: n(c.n),
      maxConnections: n(max.max),
      reserved: n(max.reserved),
      idleInTransaction: n(idle.n),
      oldestIdleInTransactionS: Math.round(Number(idle.oldest)),
      waitingLocks: n(locks.n),
      longQueries: long.rows.map((r: Record<string, unknown>) => ({ pid: Number(r.pid), seconds: Number(r.s), query: String(r.q) })),
    };
  } finally {
    await client.end();
  }
}
