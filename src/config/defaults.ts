/**
 * The defaults of the db and cache sections as plain data, for the code every worker loads (db/,
 * cache/): importing the schema costs a process ~80 ms of CPU (zod, and building the schema), and a
 * worker gets its whole config from the supervisor already parsed. Generated from the schema by
 * `npm run config:defaults` (scripts/config-defaults.ts); defaults.test.ts fails when it differs.
 * Do not edit by hand: change the default in schema.ts and run the script.
 */
import { deepFreeze } from "./deep-freeze.js";
import type { Config } from "./schema.js";

/** db.* defaults (durations in ms, sizes in bytes). */
export const dbDefaults: Config["db"] = deepFreeze({
  url: "sqlite:./data/app.db",
  statementTimeout: 0,
  pool: {
    max: 10,
    min: 0,
    acquireTimeout: 5000,
    maxWaiting: 1000,
    idleTimeout: 600000,
    maxLifetime: 1800000,
    validateAfterIdle: 5000,
    keepaliveInterval: 0,
    leakDetectionThreshold: 0,
  },
  sqlite: {
    readers: 2,
    busyTimeout: 5000,
    journalSizeLimit: 67108864,
    walAutocheckpoint: 1000,
    checkpointInterval: 30000,
    optimizeInterval: 3600000,
    readerNice: 0,
    readerCacheSize: 67108864,
    mmapSize: 0,
    inlineReadThresholdUs: 200,
    inlineWriteThresholdUs: 200,
    lockWaiters: 256,
  },
});

/** cache.* defaults (durations in ms). */
export const cacheDefaults: Config["cache"] = deepFreeze({
  url: "memory:",
  namespace: "holdfast",
  maxEntries: 10000,
  ttl: 60000,
  staleTtl: 0,
  commandTimeout: 250,
  lockWait: 1000,
});
