/**
 * The max_connections arithmetic, checked once at start-up: every worker process has its own
 * pool, so one instance may open workers × db.pool.max connections, and several instances add
 * up. Past what the server allows, connects fail with "too many clients" under load, long after
 * the deploy that caused it; a warning at start names the numbers while someone is watching.
 */
import type pg from "pg";
import { importOptional } from "../../optional/index.js";

/** What the server allows, read from one short-lived connection. */
export interface ServerConnectionLimits {
  /** SHOW max_connections. */
  maxConnections: number;
  /** Slots kept for superusers (superuser_reserved_connections, plus reserved_connections on PostgreSQL 16+). */
  reserved: number;
  /** Connections open now, from every client (pg_stat_activity client backends). */
  inUse: number;
}

/** Connections to leave for admin tools, migrations, monitoring and a deploy's overlap. */
export const CONNECTION_HEADROOM = 5;

/**
 * Reads the server's connection limits; undefined when it cannot be reached within `timeoutMs`, or
 * when the pg package is missing (both reported elsewhere: by the pool, and when the database opens).
 */
export async function readServerConnectionLimits(url: string, timeoutMs = 3000): Promise<ServerConnectionLimits | undefined> {
  let pgModule: typeof pg;
  try {
    pgModule = (await importOptional<{ default: typeof pg }>("pg", "db.url is a postgres:// URL")).default;
  } catch {
    return undefined;
  }
  const client = new pgModule.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, application_name: "holdfast-startup-check" });
  client.on("error", () => {});
  try {
    await client.connect();
    const { rows } = await client.query<{ max: string; su: string; r: string | null; used: string }>(
      `select current_setting('max_connections') as max,
              current_setting('superuser_reserved_connections') as su,
              current_setting('reserved_connections', true) as r,
              (select count(*) from pg_stat_activity where backend_type = 'client backend') as used`,
    );
    const row = rows[0];
    if (!row) return undefined;
    return { maxConnections: Number(row.max), reserved: Number(row.su) + Number(row.r ?? 0), inUse: Number(row.used) };
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => {});
  }
}

/** A warning when this instance alone may open more connections than the server leaves for it; undefined when it fits. */
export function connectionBudgetWarning(limits: ServerConnectionLimits, workers: number, poolMax: number): string | undefined {
  const perInstance = workers * poolMax;
  const usable = limits.maxConnections - limits.reserved - CONNECTION_HEADROOM;
  if (perInstance <= usable) return undefined;
  return (
    `this instance may open ${workers} workers × db.pool.max ${poolMax} = ${perInstance} PostgreSQL connections, but the server allows ` +
    `${limits.maxConnections} (max_connections) − ${limits.reserved} reserved − ${CONNECTION_HEADROOM} headroom = ${usable} ` +
    `(${limits.inUse} in use now by all clients). Under load, connects will fail with "too many clients" (DB_UNAVAILABLE). ` +
    `With several instances the sum over all of them must fit.`
  );
}

/** What to do about {@link connectionBudgetWarning}. */
export function connectionBudgetFix(limits: ServerConnectionLimits, workers: number): string {
  const usable = limits.maxConnections - limits.reserved - CONNECTION_HEADROOM;
  const fit = Math.max(1, Math.floor(usable / Math.max(1, workers)));
  return `lower db.pool.max to at most ${fit} (÷ the number of instances), lower workers, raise max_connections on the server, or put PgBouncer in transaction mode in front (docs/scaling.md).`;
}
