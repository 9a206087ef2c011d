/** `openDatabase(url, options)`: one entry point for `sqlite:…` and `postgres://…`. */
import type { Config } from "../config/index.js";
import { useRequestContext } from "../context/index.js";
import type { Logger } from "../telemetry/index.js";
import { openSqlite, type SqliteSettings } from "./sqlite/index.js";
import type { Database } from "./types.js";
import { parseDatabaseUrl } from "./url.js";

/** Config `db.pool.*` (durations in ms); a key left out takes its default from the config schema. */
export type PoolSettings = Partial<Config["db"]["pool"]>;

/** Options of {@link openDatabase}; keys as in config `db.*`, durations in ms. */
export interface OpenDatabaseOptions {
  /** Config `db.pool`. */
  pool?: PoolSettings | undefined;
  /** Config `db.sqlite`. */
  sqlite?: Partial<SqliteSettings> | undefined;
  /** Cap on one statement in ms (0 = only the request deadline and acquire timeout). */
  statementTimeout?: number | undefined;
  /** Longest a SQLite transaction may hold the writer outside a shorter request deadline, in ms. Default 30000. */
  transactionTimeout?: number | undefined;
  /** Most queued SQLite writes committed together (1 turns group commit off). Default 64. */
  groupCommit?: number | undefined;
  /** SQLite: runs on a reader thread (p99 under db.sqlite.inlineReadThresholdUs) before a statement may run inline on the main thread. Default 32. */
  inlineAfterRuns?: number | undefined;
  /** Where db events (db.locked, pool.timeout, …) are logged. */
  log?: Logger | undefined;
}

/**
 * Opens a database by URL: `sqlite:./data/app.db`, `sqlite::memory:` or `postgres://user@host/db`.
 * Its waits are bounded by the request's deadline, so from now on requests carry their context
 * across awaits (see context/index.ts).
 */
export async function openDatabase(url: string, options: OpenDatabaseOptions = {}): Promise<Database> {
  useRequestContext();
  const target = parseDatabaseUrl(url);
  if (target.dialect === "postgres") {
    // Loaded only for PostgreSQL URLs, so SQLite users never load `pg`.
    const { openPostgres } = await import("./postgres/index.js");
    return openPostgres(target.url, { pool: options.pool, statementTimeout: options.statementTimeout, log: options.log });
  }
  return openSqlite({
    path: target.path,
    sqlite: options.sqlite,
    pool: options.pool,
    transactionTimeout: options.transactionTimeout,
    statementTimeout: options.statementTimeout,
    groupCommit: options.groupCommit,
    inlineAfterRuns: options.inlineAfterRuns,
    log: options.log,
  });
}
