/** SQLite on worker threads: one writer, N readers; and the maintenance used by `holdfast db`. */
export { openSqlite, SqliteDatabase, type SqliteDatabaseOptions, type SqliteSettings } from "./sqlite-database.js";
export {
  backupSqlite,
  checkSqlite,
  checkpointSqlite,
  inspectSqlite,
  optimizeSqlite,
  type SqliteCheckReport,
  type InspectOptions,
  type SqliteInspection,
} from "./db-commands.js";
export type { CheckpointMode, CheckpointResult } from "./protocol.js";
