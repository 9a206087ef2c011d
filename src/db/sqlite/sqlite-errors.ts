/**
 * SQLite's error messages, in one place as the pool's are in pool-errors.ts: what happened, the
 * numbers that prove it, and what to do. Used on both sides (main-thread lanes and the SQLite
 * threads), so it imports nothing but the errors part and the Retry-After policy.
 */
import { errors, type HoldfastError } from "../../errors/index.js";
import { type DrainRate, retryAfterSeconds } from "../retry-after.js";

/** SQLite's error codes that mean "someone else holds the lock; retry". */
export function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"));
}

/** What every DB_LOCKED message tells the operator to do next. */
function findTheOtherWriter(path: string): string {
  return `Find the other writer: \`holdfast doctor --db sqlite:${path}\` or \`fuser ${path}\`; keep write transactions short (no network calls inside them).`;
}

/** Turns a better-sqlite3 error into the HoldfastError a caller matches on. */
export function mapSqliteError(err: unknown, path: string, sqlText?: string): HoldfastError {
  const e = err as { code?: string; message?: string };
  const code = e?.code ?? "";
  const msg = e?.message ?? String(err);
  const details: Record<string, unknown> = { sqliteCode: code || undefined, path };
  if (sqlText) details.sql = sqlText.length > 200 ? `${sqlText.slice(0, 200)}…` : sqlText;
  if (code === "SQLITE_NOTADB" || code.startsWith("SQLITE_CORRUPT")) {
    return errors.dbCorrupt(
      `${path} is not a usable SQLite database: SQLite said "${msg}". holdfast did not modify it. Check that db.url points at the right file; if it is your database, run \`holdfast db check sqlite:${path}\` and restore from a backup if the check fails.`,
      { cause: err, details },
    );
  }
  if (code.startsWith("SQLITE_READONLY")) {
    return errors.dbUnavailable(
      `${path} is read-only for this process (SQLite said "${msg}"). holdfast needs write access to the file and its directory (for the -wal and -shm files): check the owner and mode with \`ls -l ${path}*\`.`,
      { cause: err, details, retryAfter: retryAfterSeconds("refused") },
    );
  }
  if (code.startsWith("SQLITE_CANTOPEN") || code.startsWith("SQLITE_IOERR") || code === "SQLITE_FULL" || code === "SQLITE_PERM") {
    return errors.dbUnavailable(
      `SQLite could not read or write ${path}: "${msg}" (${code}). Check free disk space (\`df -h\`), permissions, and that the directory still exists.`,
      { cause: err, details, retryAfter: retryAfterSeconds("refused") },
    );
  }
  if (isBusy(err)) {
    return errors.dbLocked(`${path} is locked by another connection: "${msg}". ${findTheOtherWriter(path)}`, {
      cause: err,
      details,
      retryAfter: retryAfterSeconds("busy"),
    });
  }
  return errors.dbQueryFailed(`SQLite rejected the statement: ${msg}${code ? ` (${code})` : ""}.`, { cause: err, details });
}

/** DB_LOCKED: a statement waited for the write lock until its limit (busy timeout, statement timeout or deadline). */
export function lockedTooLongError(path: string, waitedMs: number, details: Record<string, unknown> = {}): HoldfastError {
  return errors.dbLocked(
    `SQLite database ${path} stayed locked by another writer for ${waitedMs} ms, until this write's limit (the busy timeout or the request's deadline, whichever came first). Another process or connection is holding a write transaction open. ${findTheOtherWriter(path)}`,
    { retryAfter: retryAfterSeconds("busy"), details: { path, waitedMs, ...details } },
  );
}

/** DB_LOCKED: a write queued behind a write that is itself waiting for a lock held elsewhere ran out of time. */
export function lockedBehindError(path: string, waitedMs: number, lockWaitMs: number, details: Record<string, unknown>): HoldfastError {
  return errors.dbLocked(
    `This write waited ${waitedMs} ms behind a write that is itself waiting for the SQLite lock on ${path}, held by another process or connection. ${findTheOtherWriter(path)}`,
    { retryAfter: retryAfterSeconds("busy"), details: { ...details, lockWaitMs } },
  );
}

/** DB_LOCKED at once: `db.sqlite.lockWaiters` writes already wait for a lock held elsewhere. */
export function lockShedError(path: string, lockWaitMs: number, waiting: number, lockWaiters: number): HoldfastError {
  return errors.dbLocked(
    `Another process or connection has held the SQLite write lock on ${path} for ${lockWaitMs} ms and ${waiting} writes are already waiting for it (db.sqlite.lockWaiters = ${lockWaiters}); this write failed at once instead of waiting. ${findTheOtherWriter(path)}`,
    { retryAfter: retryAfterSeconds("busy"), details: { path, waiting, lockWaitMs, shed: true } },
  );
}

/** POOL_QUEUE_FULL: `db.pool.maxWaiting` reads or writes already queued for the threads of one file. */
export function laneQueueFullError(lane: "reads" | "writes", path: string, maxWaiting: number, drain: DrainRate): HoldfastError {
  const threads = lane === "reads" ? "reader threads" : "writer";
  const advice = lane === "reads" ? " The database cannot keep up with the read rate: look for slow queries." : "";
  return errors.poolQueueFull(
    `${drain.queued} ${lane} are already queued for the SQLite ${threads} of ${path} (db.pool.maxWaiting = ${maxWaiting}); this one failed at once instead of waiting.${advice}`,
    { retryAfter: retryAfterSeconds("busy", drain), details: { path, queued: drain.queued } },
  );
}

/** POOL_TIMEOUT: no reader thread became free within min(acquireTimeout, deadline). */
export function readerTimeoutError(path: string, waitedMs: number, drain: DrainRate): HoldfastError {
  return errors.poolTimeout(
    `No SQLite reader thread became free within ${waitedMs} ms (the acquire timeout or the request's remaining time, whichever was smaller); ${drain.servers} reader threads, ${drain.queued} reads queued for ${path}. Reads arrive faster than they finish: look for slow queries (missing index) or raise db.sqlite.readers up to the number of cores.`,
    { retryAfter: retryAfterSeconds("busy", drain), details: { path, waitedMs, readers: drain.servers, queued: drain.queued } },
  );
}

/** POOL_TIMEOUT: the writer did not become free within min(acquireTimeout, deadline). */
export function writerTimeoutError(path: string, waitedMs: number, inTransaction: boolean, drain: DrainRate): HoldfastError {
  return errors.poolTimeout(
    `The SQLite writer of ${path} did not become free within ${waitedMs} ms (the acquire timeout or the request's remaining time); ${drain.queued} writes queued${inTransaction ? ", and a transaction is holding the writer" : ""}. Writes arrive faster than they finish: shorten transactions, batch writes, or move heavy writing to PostgreSQL.`,
    { retryAfter: retryAfterSeconds("busy", drain), details: { path, waitedMs, queued: drain.queued } },
  );
}

/** DEADLINE_EXCEEDED: the deadline passed while a job waited in a SQLite thread's inbox; it was not run. */
export function expiredInThreadError(path: string, role: string): HoldfastError {
  return errors.deadlineExceeded(
    `The request's deadline passed while this statement waited for the SQLite ${role} thread; it was not run. The thread is busier than the load allows: see \`holdfast db status\` and look for slow statements.`,
    { retryAfter: retryAfterSeconds("busy"), details: { path, role } },
  );
}

/** POOL_CLOSED: the database was closed (worker shutting down) before or while this call waited. */
export function sqliteClosedError(message: string): HoldfastError {
  return errors.poolClosed(message, { retryAfter: retryAfterSeconds("busy") });
}

/**
 * DEADLINE_EXCEEDED: a read still running on a reader thread was abandoned (it finishes in the
 * background) because db.statementTimeout (`statementCapMs` given) or the request's deadline passed.
 */
export function slowReadError(path: string, runningMs: number, statementCapMs: number | undefined, sql: string | undefined): HoldfastError {
  if (statementCapMs !== undefined) {
    // Same code as PostgreSQL's statement timeout, so callers handle both alike.
    return errors.deadlineExceeded(
      `A SQLite read on ${path} ran past db.statementTimeout (${statementCapMs} ms) and was abandoned; it finishes in the background on its reader thread. Find the slow query (EXPLAIN QUERY PLAN; a missing index is the usual cause) or raise db.statementTimeout.`,
      { details: { path, runningMs, limitMs: statementCapMs, cancelledBy: "statementTimeout", sql } },
    );
  }
  return errors.deadlineExceeded(
    `The request's deadline passed while its SQLite read had been running for ${runningMs} ms on a reader thread of ${path}; the request was answered now and the query finishes in the background. Find the slow query (EXPLAIN QUERY PLAN; a missing index is the usual cause).`,
    { details: { path, runningMs, sql } },
  );
}
