/**
 * Entry of every SQLite thread (role "writer" or "reader"). Runs statements synchronously with
 * better-sqlite3 — a lock wait blocks only this thread — and answers the main thread with
 * plain messages. The writer also owns transactions, group commit and the checkpoint manager.
 */
import { parentPort, workerData } from "node:worker_threads";
import { errors, fromSerialized, type HoldfastError, isHoldfastError, type SerializedError } from "../../errors/index.js";
import { CheckpointManager } from "./checkpoint.js";
import { bindValues, type Connection, type LockWaitObserver, openConnection, StatementCache, type Stmt, withLockRetry } from "./connection.js";
import { expiredInThreadError, isBusy, lockedTooLongError, mapSqliteError } from "./sqlite-errors.js";
import { niceThisThread } from "./thread-priority.js";
import type { SqlValue } from "../types.js";
import {
  denseArray,
  type FromThread,
  type Job,
  type JobResult,
  type PackedStatements,
  type ThreadConfig,
  type ToThread,
  type WireStatement,
} from "./protocol.js";

const config = workerData as ThreadConfig;
const port = parentPort;
if (!port) throw new Error("sqlite-thread must run in a worker thread");

function post(m: FromThread): void {
  port?.postMessage(m);
}

function serialize(err: unknown, sqlText?: string): SerializedError {
  const h: HoldfastError = isHoldfastError(err) ? err : mapSqliteError(err, config.path, sqlText);
  return h.toJSON();
}

let db: Connection;
try {
  db = openConnection(config.path, {
    role: config.role,
    journalSizeLimit: config.journalSizeLimit,
    walAutocheckpoint: config.walAutocheckpoint,
    mmapSize: config.mmapSize,
    cacheSize: config.readerCacheSize,
    lockSliceMs: config.lockSliceMs,
    busyTimeout: config.busyTimeout,
  });
} catch (err) {
  post({ type: "open-failed", error: serialize(err) });
  port.close();
  throw err;
}

// The writer keeps its priority: a niced writer holding the write lock would keep other
// processes' writers waiting longer.
if (config.role === "reader") niceThisThread(config.readerNice);

const cache = new StatementCache(db);
const observer: LockWaitObserver = {
  started: () => post({ type: "lock-wait", waiting: true, waitedMs: 0, timedOut: 0 }),
  ended: (waitedMs, timedOut) => post({ type: "lock-wait", waiting: false, waitedMs, timedOut: timedOut ? 1 : 0 }),
};
let txOpen = false;
const checkpoints =
  config.role === "writer" && config.path !== ":memory:"
    ? new CheckpointManager(
        db,
        config,
        () => txOpen,
        (result) => post({ type: "checkpoint", result }),
        (level, event, msg, fields) => post({ type: "log", level, event, msg, fields }),
      )
    : undefined;

/** Transaction-control statements, prepared once (exec re-parses the text on every call). */
function control(text: string): void {
  cache.get(text).run();
}

/**
 * How long a statement starting now may wait for a lock: min(busy timeout, its request deadline),
 * and never past `bound`, the end of a write's whole wait (its time queued on the main thread counts).
 */
function lockLimit(requestDeadline: number, bound = 0): number {
  let limit = Date.now() + config.lockBudgetMs;
  if (requestDeadline) limit = Math.min(limit, requestDeadline);
  if (bound) limit = Math.min(limit, bound);
  return limit;
}

/** Runs `fn`, waiting for locks until `limit` (epoch ms, from {@link lockLimit}). */
function locked<T>(fn: () => T, limit: number, expire?: (now: number, waitingSince: number) => number): T {
  return withLockRetry(db, config.path, fn, limit, config.lockSliceMs, observer, expire);
}

/** Runs one statement. A reader refuses writes (query_only) so the main thread re-routes them. */
function execute(stmt: Stmt, mode: "all" | "get" | "run", params: unknown[]): unknown {
  if (mode === "run" || !stmt.reader) {
    // One array argument, not spread (inline-connection.ts says why).
    const r = stmt.run(params);
    if (mode === "all") return [];
    if (mode === "get") return undefined;
    return { changes: r.changes, lastInsertRowid: r.lastInsertRowid };
  }
  return mode === "all" ? stmt.all(params) : stmt.get(params);
}

/**
 * Microseconds the last statement took to run, preparing it excluded (a one-off per thread, not
 * what the statement will cost the main thread's connection, which prepares it once too).
 */
let lastRunUs = 0;

function runStatement(mode: "all" | "get" | "run", s: WireStatement, deadline: number, bound = 0): unknown {
  const stmt = cache.get(s.text);
  if (config.role === "reader" && !stmt.readonly) {
    throw errors.dbQueryFailed("statement writes; re-route to the writer", { details: { needsWriter: true } });
  }
  const params = bindValues(s.values);
  const t0 = performance.now();
  // Fast path: no lock in the way (nearly always). Only a SQLITE_BUSY enters the deadline-sliced wait.
  try {
    const value = execute(stmt, mode, params);
    lastRunUs = Math.round((performance.now() - t0) * 1000);
    return value;
  } catch (err) {
    if (!isBusy(err)) throw err;
  }
  try {
    return locked(() => execute(stmt, mode, params), lockLimit(deadline, bound));
  } finally {
    // A read that had to wait for a lock is slow, as far as running it on the main thread goes.
    lastRunUs = Math.round((performance.now() - t0) * 1000);
  }
}

function runBatch(stmts: WireStatement[], deadline: number): unknown {
  const out: { changes: number; lastInsertRowid: number | bigint }[] = [];
  for (const s of stmts) {
    const r = cache.get(s.text).run(...bindValues(s.values));
    out.push({ changes: r.changes, lastInsertRowid: r.lastInsertRowid });
  }
  void deadline;
  return out;
}

function expiredResult(job: Job): JobResult {
  return {
    id: job.id,
    ok: false,
    error: expiredInThreadError(config.path, config.role).toJSON(),
  };
}

/** Runs one job outside any group (reads, and writer jobs inside an open transaction). */
function runOne(job: Job): JobResult {
  if (job.deadline && Date.now() >= job.deadline && job.kind !== "end") return expiredResult(job);
  let text: string | undefined;
  try {
    switch (job.kind) {
      case "stmt":
        text = job.stmt.text;
        return { id: job.id, ok: true, value: runStatement(job.mode, job.stmt, job.deadline, job.bound) };
      case "batch": {
        // Inside a transaction a batch is its own savepoint, so it stays all-or-nothing.
        if (!txOpen) return runGroup([job])[0] as JobResult;
        control("SAVEPOINT hf_batch");
        try {
          const v = runBatch(job.stmts, job.deadline);
          control("RELEASE hf_batch");
          return { id: job.id, ok: true, value: v };
        } catch (err) {
          control("ROLLBACK TO hf_batch");
          control("RELEASE hf_batch");
          throw err;
        }
      }
      case "begin":
        if (txOpen) throw new Error("a transaction is already open on the writer");
        locked(() => control("BEGIN IMMEDIATE"), lockLimit(job.deadline, job.bound));
        txOpen = true;
        return { id: job.id, ok: true, value: null };
      case "end":
        if (txOpen) {
          try {
            db.exec(job.commit ? "COMMIT" : "ROLLBACK");
          } finally {
            // A failed COMMIT leaves the transaction open in SQLite; roll it back so the lock is released.
            if (db.inTransaction) db.exec("ROLLBACK");
            txOpen = false;
          }
        }
        return { id: job.id, ok: true, value: null };
      case "checkpoint":
        if (!checkpoints) return { id: job.id, ok: true, value: null };
        return { id: job.id, ok: true, value: checkpoints.run(job.mode, undefined, job.quiet !== true) };
      case "optimize":
        db.pragma("optimize");
        return { id: job.id, ok: true, value: null };
    }
  } catch (err) {
    return { id: job.id, ok: false, error: serialize(err, text) };
  }
}

/**
 * Group commit: one BEGIN IMMEDIATE … COMMIT around many queued writes, each in its own
 * SAVEPOINT so a failing write rolls back only itself. Members whose deadline passes while
 * the lock is held elsewhere fail with DB_LOCKED at their own deadline, not the group's.
 */
function runGroup(jobs: Job[], times?: number[]): JobResult[] {
  const results = new Map<number, JobResult>();
  let pending = jobs.filter((j) => {
    if (j.deadline && Date.now() >= j.deadline) {
      results.set(j.id, expiredResult(j));
      return false;
    }
    return true;
  });
  if (pending.length === 0) return jobs.map((j) => results.get(j.id) as JobResult);
  // From here a job's deadline is its lock limit: min(busy timeout from now, its request deadline).
  for (const j of pending) j.deadline = lockLimit(j.deadline, j.bound);
  const maxDeadline = () => pending.reduce((m, j) => Math.max(m, j.deadline || Number.POSITIVE_INFINITY), 0);
  try {
    locked(
      () => control("BEGIN IMMEDIATE"),
      maxDeadline(),
      (now, since) => {
        const gaveUp = pending.filter((j) => j.deadline && now >= j.deadline);
        if (gaveUp.length > 0 && gaveUp.length < pending.length) {
          const err = lockedError(now - since);
          const early = gaveUp.map((j) => ({ id: j.id, ok: false as const, error: err }));
          for (const r of early) results.set(r.id, r);
          postResults(early, false);
          pending = pending.filter((j) => !gaveUp.includes(j));
        }
        return maxDeadline();
      },
    );
  } catch (err) {
    const e = serialize(err);
    for (const j of pending) results.set(j.id, { id: j.id, ok: false, error: e });
    return jobs.map((j) => results.get(j.id) as JobResult);
  }
  const single = pending.length === 1;
  // pending keeps jobs' order: `at` walks jobs alongside it, for each job's slot in `times`.
  let at = 0;
  for (const job of pending) {
    while (jobs[at] !== job) at++;
    let text: string | undefined;
    try {
      if (!single) control("SAVEPOINT hf_g");
      let value: unknown;
      if (job.kind === "stmt") {
        text = job.stmt.text;
        lastRunUs = 0;
        value = runStatement(job.mode, job.stmt, job.deadline);
        // The statement alone, its commit excluded: what it would cost the main thread's connection, less the commit.
        if (times !== undefined) times[at] = lastRunUs;
      } else if (job.kind === "batch") value = runBatch(job.stmts, job.deadline);
      if (!single) control("RELEASE hf_g");
      results.set(job.id, { id: job.id, ok: true, value });
    } catch (err) {
      if (!single) {
        control("ROLLBACK TO hf_g");
        control("RELEASE hf_g");
      }
      results.set(job.id, { id: job.id, ok: false, error: serialize(err, text) });
    }
  }
  try {
    if (single && !(results.get((pending[0] as Job).id) as JobResult).ok) db.exec("ROLLBACK");
    else control("COMMIT");
  } catch (err) {
    if (db.inTransaction) db.exec("ROLLBACK");
    const e = serialize(err);
    for (const j of pending) results.set(j.id, { id: j.id, ok: false, error: e });
  }
  return jobs.map((j) => results.get(j.id) as JobResult);
}

function lockedError(waitedMs: number): SerializedError {
  return lockedTooLongError(config.path, waitedMs).toJSON();
}

function postResults(results: JobResult[], done: boolean, times?: number[]): void {
  const ids: number[] = [];
  const values: unknown[] = [];
  let errs: (SerializedError | null)[] | null = null;
  for (let i = 0; i < results.length; i++) {
    const r = results[i] as JobResult;
    ids.push(r.id);
    if (r.ok) values.push(r.value);
    else {
      values.push(undefined);
      errs ??= denseArray<SerializedError | null>(results.length, null);
      errs[i] = r.error;
    }
  }
  post({ type: "results", ids, values, errors: errs, done, times });
}

/** SQL texts by statement id, as the main thread numbered them. */
const texts = new Map<number, string>();
const MODES = { a: "all", g: "get", r: "run" } as const;

/** The reader's hot path: runs packed statements straight from the arrays, answering in arrays. */
function readPacked(m: PackedStatements): void {
  const n = m.ids.length;
  const values = denseArray<unknown>(n, undefined);
  const times = denseArray(n, 0);
  let errs: (SerializedError | null)[] | null = null;
  const now = Date.now();
  for (let i = 0; i < n; i++) {
    lastRunUs = 0;
    const sid = m.sids[i] as number;
    let text = m.texts[i];
    if (text != null) {
      if (sid > 0) texts.set(sid, text);
    } else text = texts.get(sid) as string;
    const deadline = m.deadlines[i] as number;
    try {
      if (deadline && now >= deadline) {
        const r = expiredResult({ id: 0, kind: "optimize", deadline });
        throw r.ok ? new Error("unreachable") : fromSerialized(r.error);
      }
      values[i] = runStatement(MODES[m.modes[i] as "a" | "g" | "r"], { text, values: m.values[i] as SqlValue[] }, deadline);
    } catch (err) {
      errs ??= denseArray<SerializedError | null>(n, null);
      errs[i] = serialize(err, text);
    }
    times[i] = lastRunUs;
  }
  post({ type: "results", ids: m.ids, values, errors: errs, done: true, times });
}

function unpack(m: PackedStatements): Job[] {
  const jobs = new Array<Job>(m.ids.length);
  for (let i = 0; i < jobs.length; i++) {
    const sid = m.sids[i] as number;
    let text = m.texts[i];
    if (text != null) {
      if (sid > 0) texts.set(sid, text);
    } else text = texts.get(sid) as string;
    jobs[i] = {
      id: m.ids[i] as number,
      kind: "stmt",
      mode: MODES[m.modes[i] as "a" | "g" | "r"],
      stmt: { text, values: m.values[i] as SqlValue[] },
      deadline: m.deadlines[i] as number,
      bound: m.bounds?.[i] ?? 0,
    };
  }
  return jobs;
}

port.on("message", (m: ToThread) => {
  if (m.type === "close") {
    checkpoints?.stop();
    try {
      if (txOpen) db.exec("ROLLBACK");
      if (config.role === "writer") db.pragma("optimize");
    } catch {
      // Closing anyway: nothing useful to report from a failing optimize at shutdown.
    }
    db.close();
    port.close();
    return;
  }
  if (m.type === "packed" && config.role === "reader") {
    readPacked(m);
    return;
  }
  const jobs = m.type === "packed" ? unpack(m) : m.jobs;
  if (config.role === "writer" && m.group && !m.inTransaction && !txOpen) {
    const times = denseArray(jobs.length, 0);
    postResults(runGroup(jobs, times), true, times);
  } else postResults(jobs.map(runOne), true);
});

post({ type: "ready" });
