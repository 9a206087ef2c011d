/**
 * db/ — the deadline-aware database layer: one API for SQLite (worker threads) and PostgreSQL.
 * `openDatabase(url, options)` is what the server hands apps as `ctx.db`.
 * Where each behaviour lives (one hop from here):
 *
 *   open.ts, url.ts        openDatabase: the URL picks the driver; types.ts is the contract both keep
 *   sql.ts                 the `sql` tag (portable parameters); retry-after.ts, every 503's Retry-After
 * pool/ — the pool core under PostgreSQL (the SQLite lanes reuse its latency window)
 *   pool.ts                acquire within the deadline, the wait queue (waiter.ts, ring-queue.ts), release
 *   opener.ts              opening with capped backoff; housekeeping.ts idle, age and ping; settle.ts bounded callbacks
 *   lease.ts, options.ts, events.ts, pool-stats.ts (PoolStatus), latency-window.ts, pool-errors.ts (messages)
 * postgres/ — node-postgres under the pool
 *   postgres-database.ts   the Database; pg-connection.ts stops a statement at its deadline
 *   pg-errors.ts (codes), placeholders.ts (`?` → `$n`), connection-budget.ts (workers × max vs max_connections)
 * sqlite/ — one writer thread and N reader threads per process
 *   sqlite-database.ts     the Database: routes reads and writes, status, close; sqlite-options.ts its settings
 *   writer-lane.ts         writes queue here, bounded by their deadline; transaction.ts BEGIN IMMEDIATE … COMMIT
 *   reader-pool.ts         reads on the reader threads; inline-connection.ts + inline-profiles.ts run fast reads and writes on the main thread
 *   thread-handle.ts       the main thread's side of a thread; protocol.ts the messages; job-queue.ts, lane-stats.ts
 *   sqlite-thread.ts       inside a thread; connection.ts the connection and its lock-wait loop; checkpoint.ts the WAL
 *   spawn-thread.ts, thread-priority.ts, prepare-file.ts (path checks), sqlite-errors.ts (messages)
 *   db-commands.ts         what `holdfast db` does to a file (inspect, check, checkpoint, backup, optimize)
 */
export { openDatabase, type OpenDatabaseOptions, type PoolSettings } from "./open.js";
export { sql, toStatement, toNumberedPlaceholders, type RawSql } from "./sql.js";
export { parseDatabaseUrl, type DatabaseTarget } from "./url.js";
export { redactUrl } from "../telemetry/index.js";
export {
  backupSqlite,
  checkSqlite,
  checkpointSqlite,
  inspectSqlite,
  optimizeSqlite,
  openSqlite,
  SqliteDatabase,
  type CheckpointMode,
  type CheckpointResult,
  type SqliteCheckReport,
  type SqliteDatabaseOptions,
  type InspectOptions,
  type SqliteInspection,
  type SqliteSettings,
} from "./sqlite/index.js";
export type {
  Database,
  DatabaseStatus,
  LatencySummary,
  PoolStatus,
  Queryable,
  Row,
  RunResult,
  SqliteReadCounts,
  SqliteRouteCounts,
  SqliteStatus,
  SqlStatement,
  SqlValue,
} from "./types.js";
