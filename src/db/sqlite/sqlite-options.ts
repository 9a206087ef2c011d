/**
 * The SQLite database's options: the config schema's `db.sqlite` settings with their defaults,
 * and what they become on this machine (readers capped by cores, nothing threaded in memory).
 */
import { availableParallelism } from "node:os";
import { dbDefaults } from "../../config/defaults.js";
import type { Config } from "../../config/index.js";
import type { Logger } from "../../telemetry/index.js";
import type { ThreadConfig } from "./protocol.js";

/**
 * SQLite settings: config `db.sqlite.*` (durations in ms, sizes in bytes), each key's meaning and
 * default in src/config/schema.ts and docs/configuration.md.
 */
export type SqliteSettings = Config["db"]["sqlite"];

/** Options of {@link openSqlite}. */
export interface SqliteDatabaseOptions {
  /** Absolute file path or ":memory:". */
  path: string;
  sqlite?: Partial<SqliteSettings> | undefined;
  /** Queue wait limit (ms) and queue length, from config `db.pool.*`. */
  pool?: { acquireTimeout?: number; maxWaiting?: number } | undefined;
  /** Longest a transaction may hold the writer when no request deadline is shorter, in ms. Default 30000. */
  transactionTimeout?: number | undefined;
  /** Most writes per group commit (1 = off). Default 64. */
  groupCommit?: number | undefined;
  /** Config db.statementTimeout in ms: caps a read's run time and any lock wait (0 = only busyTimeout and the deadline). */
  statementTimeout?: number | undefined;
  /** Runs on a reader thread (p99 under the threshold) before a statement may run inline. Default 32. */
  inlineAfterRuns?: number | undefined;
  log?: Logger | undefined;
}

/** Longest a transaction may hold the writer outside a shorter request deadline, ms. */
const TRANSACTION_TIMEOUT_MS = 30_000;
/** Most queued writes committed together. */
const GROUP_COMMIT = 64;
/** Runs on a reader thread under the threshold before a statement may run inline. */
const INLINE_AFTER_RUNS = 32;

/** Options after defaults, as the database uses them. */
export interface ResolvedSqliteOptions {
  settings: SqliteSettings;
  /** db.sqlite.readers as configured, before the cap at CPU cores − 1 (0 for ":memory:"). */
  readersConfigured: number;
  journalMode: "wal" | "memory";
  acquireTimeout: number;
  maxWaiting: number;
  transactionTimeout: number;
  /** db.statementTimeout, or Infinity when 0 (only busyTimeout and the deadline apply). */
  statementCap: number;
  groupMax: number;
  inlineAfterRuns: number;
}

/** Fills defaults from the config schema and fits the readers to the machine. */
export function resolveSqliteOptions(options: SqliteDatabaseOptions): ResolvedSqliteOptions {
  const settings: SqliteSettings = { ...dbDefaults.sqlite, ...stripUndefined(options.sqlite ?? {}) };
  let readersConfigured = 0;
  if (options.path === ":memory:") {
    // Threads cannot share an in-memory database: everything runs on the writer.
    settings.readers = 0;
  } else {
    // More readers than free cores only adds context switches: on 2 cores, 2 readers measured
    // about half the read throughput of 1 (bench/sqlite.ts). The main thread needs a core too.
    readersConfigured = settings.readers;
    settings.readers = Math.max(1, Math.min(settings.readers, availableParallelism() - 1));
  }
  return {
    settings,
    readersConfigured,
    journalMode: options.path === ":memory:" ? "memory" : "wal",
    acquireTimeout: options.pool?.acquireTimeout ?? dbDefaults.pool.acquireTimeout,
    maxWaiting: options.pool?.maxWaiting ?? dbDefaults.pool.maxWaiting,
    transactionTimeout: options.transactionTimeout ?? TRANSACTION_TIMEOUT_MS,
    statementCap: options.statementTimeout && options.statementTimeout > 0 ? options.statementTimeout : Number.POSITIVE_INFINITY,
    groupMax: Math.max(1, options.groupCommit ?? GROUP_COMMIT),
    inlineAfterRuns: Math.max(1, options.inlineAfterRuns ?? INLINE_AFTER_RUNS),
  };
}

/**
 * busy_timeout slice: how often a waiting thread re-checks deadlines, and the longest SQLite's busy
 * handler sleeps. Within a slice it sleeps 1, 2, 5, 10, 15, 20 ms… between tries, so with 50 ms slices
 * the first write after bench:sqlite's batch job let go of the lock finished 4-11 ms later; with 5 ms,
 * 0-4 ms after 9 of 10 releases (once 14 ms). A try
 * costs microseconds: a few hundred of them over a 1 s lock wait are nothing to the writer thread.
 */
const LOCK_SLICE_MS = 5;

/** What a reader or writer thread is started with: the settings it applies, and its lock-wait budget. */
export function threadConfig(role: "writer" | "reader", path: string, s: SqliteSettings, statementCap: number): ThreadConfig {
  return {
    role,
    path,
    busyTimeout: s.busyTimeout,
    journalSizeLimit: s.journalSizeLimit,
    walAutocheckpoint: s.walAutocheckpoint,
    mmapSize: s.mmapSize,
    readerCacheSize: s.readerCacheSize,
    readerNice: s.readerNice,
    checkpointInterval: s.checkpointInterval,
    optimizeInterval: s.optimizeInterval,
    lockBudgetMs: Math.min(s.busyTimeout, statementCap),
    lockSliceMs: LOCK_SLICE_MS,
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
