/**
 * One better-sqlite3 connection as holdfast configures it, used inside the SQLite threads and
 * by `holdfast db`: pragmas, parameter binding, a statement cache, error mapping, and the
 * lock-wait loop that keeps every wait bounded by an absolute deadline.
 */
import { statSync } from "node:fs";
import BetterSqlite3 from "better-sqlite3";
import { errors, type HoldfastError } from "../../errors/index.js";
import { isBusy, lockedTooLongError, mapSqliteError } from "./sqlite-errors.js";
import type { SqlValue } from "../types.js";

/** A better-sqlite3 connection. */
export type Connection = BetterSqlite3.Database;
/** A prepared statement. */
export type Stmt = BetterSqlite3.Statement<unknown[], unknown>;

/**
 * How a connection is opened. Every setting comes from the caller (the config schema's `db.sqlite`
 * values): this file runs inside the SQLite threads, which do not load the config part.
 */
export type ConnectionOptions =
  | (CommonConnectionOptions & {
      role: "writer";
      /** Bytes the WAL is truncated to after a checkpoint. */
      journalSizeLimit: number;
      /** Pages in the WAL before SQLite checkpoints on commit. */
      walAutocheckpoint: number;
    })
  | (CommonConnectionOptions & { role: "reader" | "admin" });

interface CommonConnectionOptions {
  /** busy_timeout slice in ms: SQLite's own wait, re-checked against the deadline between slices. */
  lockSliceMs?: number;
  /** Open read-only (admin commands that only look). */
  readonly?: boolean;
  /** How long opening may wait for another connection's lock (switching to WAL needs one), in ms. */
  busyTimeout: number;
  /** PRAGMA mmap_size in bytes (db.sqlite.mmapSize); absent or 0 leaves SQLite's default (off). */
  mmapSize?: number;
  /** Reader connections: page cache in bytes (db.sqlite.readerCacheSize); absent or 0 leaves SQLite's 2 MB. */
  cacheSize?: number;
}

/** Opens and configures a connection; throws a mapped HoldfastError (DB_CORRUPT for a non-database file). */
export function openConnection(path: string, options: ConnectionOptions): Connection {
  let db: Connection;
  try {
    db = new BetterSqlite3(path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  } catch (err) {
    throw mapSqliteError(err, path);
  }
  try {
    const slice = options.lockSliceMs ?? 50;
    const until = Date.now() + options.busyTimeout;
    db.pragma(`busy_timeout = ${slice}`);
    // The first real read of the file: a non-database file fails here with SQLITE_NOTADB.
    withLockRetry(db, path, () => db.pragma("schema_version"), until, slice);
    if (options.role === "writer" && path !== ":memory:") {
      // Switching a rollback-journal file to WAL needs an exclusive lock: wait for it like any lock.
      const mode = withLockRetry(db, path, () => db.pragma("journal_mode = WAL", { simple: true }), until, slice);
      if (String(mode).toLowerCase() !== "wal") {
        throw errors.dbUnavailable(
          `${path} could not be switched to WAL mode (it stayed "${mode}"). Another process may hold it open in exclusive locking mode, or the filesystem does not support shared memory (network filesystems): keep SQLite files on a local disk.`,
        );
      }
    }
    if (options.role !== "admin") {
      db.pragma("synchronous = NORMAL");
      db.pragma("foreign_keys = ON");
    }
    // Reader threads only, where scans run. The page cache (readerCacheSize) is what makes a
    // repeated scan cheap: past SQLite's 2 MB default every page is a read() call and a copy
    // (notes demo, 23 MB: 19.5 ms of CPU per title scan, 6.2 ms with a 64 MB cache). Memory mapping
    // (mmapSize, off by default) gains as much on scans, but the mapping is rebuilt under the
    // process-wide mmap lock whenever the file grows, and every page fault of every thread waits
    // for it: point reads measured 0.30–0.43× direct with it against 0.56–0.66× without.
    if (options.role === "reader") {
      if (options.mmapSize && options.mmapSize > 0) db.pragma(`mmap_size = ${Math.floor(options.mmapSize)}`);
      // Negative: a size in KiB rather than a page count.
      if (options.cacheSize && options.cacheSize > 0) db.pragma(`cache_size = -${Math.ceil(options.cacheSize / 1024)}`);
    }
    if (options.role === "writer") {
      db.pragma(`journal_size_limit = ${options.journalSizeLimit}`);
      db.pragma(`wal_autocheckpoint = ${options.walAutocheckpoint}`);
      // 0x10002: analyse tables that were never analysed too (SQLite's advice for long-lived connections, on open).
      // It may ANALYZE, which takes the write lock: another process opening or writing the same file
      // (a sibling worker seeding it) must not make open fail. Skipped when busy; it runs periodically.
      try {
        withLockRetry(db, path, () => db.pragma("optimize = 0x10002"), Math.min(until, Date.now() + 1000), slice);
      } catch (err) {
        if (!isBusy(err) && (err as HoldfastError).code !== "DB_LOCKED") throw err;
      }
    }
    if (options.role === "reader") db.pragma("query_only = ON");
    return db;
  } catch (err) {
    db.close();
    throw (err as HoldfastError).httpStatus ? err : mapSqliteError(err, path);
  }
}

/** Size of the -wal file in bytes (0 when absent). */
export function walBytes(path: string): number {
  if (path === ":memory:") return 0;
  try {
    return statSync(`${path}-wal`).size;
  } catch {
    return 0;
  }
}

/** Converts portable values to what better-sqlite3 binds (booleans as 0/1, Dates as ISO-8601 text, bytes as Buffer). */
export function bindValues(values: readonly SqlValue[]): unknown[] {
  // Common case first: nothing to convert, bind the array as it arrived (no allocation).
  let plain = true;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === "boolean" || (typeof v === "object" && v !== null && !Buffer.isBuffer(v))) {
      plain = false;
      break;
    }
  }
  if (plain) return values as unknown[];
  const out = new Array<unknown>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === "boolean") out[i] = v ? 1 : 0;
    else if (v instanceof Date) out[i] = v.toISOString();
    else if (v instanceof Uint8Array && !Buffer.isBuffer(v)) out[i] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    else out[i] = v;
  }
  return out;
}

/** A small LRU of prepared statements: preparing costs more than running a point query. */
export class StatementCache {
  readonly #db: Connection;
  readonly #max: number;
  readonly #map = new Map<string, Stmt>();

  constructor(db: Connection, max = 256) {
    this.#db = db;
    this.#max = max;
  }

  /** The prepared statement for `text`. */
  get(text: string): Stmt {
    let s = this.#map.get(text);
    if (s) {
      // Re-insert to mark as recently used.
      this.#map.delete(text);
      this.#map.set(text, s);
      return s;
    }
    s = this.#db.prepare(text) as Stmt;
    this.#map.set(text, s);
    if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value as string);
    return s;
  }
}

/** What the lock-wait loop reports. */
export interface LockWaitObserver {
  /** Called once when a wait starts (first SQLITE_BUSY). */
  started(): void;
  /** Called when the wait ends; `timedOut` when it gave up. */
  ended(waitedMs: number, timedOut: boolean): void;
}

/**
 * Runs `fn`, retrying on SQLITE_BUSY in busy_timeout slices until `deadline` (epoch ms).
 * Only this thread waits; the main thread's event loop never does. `expire(now)` may shorten the
 * wait (a group whose members gave up) and returns the deadline to keep waiting for, or 0 to stop.
 */
export function withLockRetry<T>(
  db: Connection,
  path: string,
  fn: () => T,
  deadline: number,
  sliceMs: number,
  observer?: LockWaitObserver,
  expire?: (now: number, waitingSince: number) => number,
): T {
  let started = 0;
  let slice = sliceMs;
  let limit = deadline;
  for (;;) {
    try {
      const r = fn();
      if (started) {
        observer?.ended(Date.now() - started, false);
        if (slice !== sliceMs) db.pragma(`busy_timeout = ${sliceMs}`);
      }
      return r;
    } catch (err) {
      if (!isBusy(err)) {
        if (started && slice !== sliceMs) db.pragma(`busy_timeout = ${sliceMs}`);
        throw err;
      }
      const now = Date.now();
      if (!started) {
        started = now;
        observer?.started();
      }
      if (expire) limit = expire(now, started);
      if (now >= limit || limit === 0) {
        const waited = now - started;
        observer?.ended(waited, true);
        if (slice !== sliceMs) db.pragma(`busy_timeout = ${sliceMs}`);
        throw lockedTooLongError(path, waited, { sqliteCode: (err as { code?: string }).code });
      }
      const next = Math.max(1, Math.min(sliceMs, limit - now));
      if (next !== slice) {
        db.pragma(`busy_timeout = ${next}`);
        slice = next;
      }
    }
  }
}
