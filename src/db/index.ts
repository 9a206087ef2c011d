/**
 * db/ — the deadline-aware database layer: one API for SQLite (worker threads) and PostgreSQL.
 * `openDatabase(url, options)` is what the server hands apps as `ctx.db`.
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
  SqliteStatus,
  SqlStatement,
  SqlValue,
} from "./types.js";
