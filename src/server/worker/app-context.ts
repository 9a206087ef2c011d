/** What a `defineApp` factory receives. */
import type { Cache } from "../../cache/index.js";
import type { Config } from "../../config/index.js";
import type { Database } from "../../db/types.js";
import type { Logger } from "../../telemetry/index.js";

/** Resources holdfast opens for the app, once per worker process. */
export interface AppContext {
  /** The database from `db.url` (SQLite by default), opened lazily on first access. */
  readonly db: Database;
  /** The cache from `cache.url` (memory per worker by default; Redis to share across workers and instances). */
  readonly cache: Cache;
  /** The worker's logger (JSON lines, `event` field for your own events). */
  readonly log: Logger;
  /** The effective configuration. */
  readonly config: Config;
}
