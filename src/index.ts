/** holdfast's public API: a tiny root export, as Hono keeps it. */
export { defineConfig, type ConfigInput, type Config } from "./config/index.js";
export { defineApp, startServer, type AppContext } from "./server/index.js";
export { currentContext, currentDeadline, Deadline, type RequestContext, useRequestContext } from "./context/index.js";
export { HoldfastError, ERROR_CODES, type ErrorCode, isHoldfastError } from "./errors/index.js";
export { openDatabase, sql } from "./db/index.js";
export { createCache, type Cache, type CacheOptions, type CacheStatus, type WrapOptions } from "./cache/index.js";
export type { Database, Queryable, SqlStatement, PoolStatus, DatabaseStatus, RunResult } from "./db/types.js";
