/**
 * A SQLite write transaction once BEGIN IMMEDIATE has succeeded: every `tx` statement goes to the
 * writer thread that the transaction owns, COMMIT when `fn` resolves, ROLLBACK when it throws — or
 * when it outlives its deadline, so the write lock is never held forever.
 */
import { Deadline } from "../../context/index.js";
import { errors, type HoldfastError } from "../../errors/index.js";
import type { Logger } from "../../telemetry/index.js";
import { toStatement } from "../sql.js";
import type { Queryable, Row, RunResult, SqlStatement, SqlValue } from "../types.js";
import type { StatementMode } from "./protocol.js";
import type { JobSpec, PendingJob } from "./thread-handle.js";
import type { WriterLane } from "./writer-lane.js";

/** What a transaction needs from its database. */
export interface TransactionHost {
  path: string;
  writer: WriterLane;
  /** Longest hold outside a shorter request deadline, in ms. */
  transactionTimeout: number;
  log: Logger;
  /** Creates a pending job and its promise. */
  pending(spec: JobSpec, deadline: Deadline, limitMs: number): { pj: PendingJob; promise: Promise<unknown> };
  /** Counts a transaction rolled back for outliving its deadline. */
  onLeak(): void;
}

/** Runs `fn` inside the transaction `owner` holds on the writer, then commits or rolls back. */
export async function runTransaction<T>(host: TransactionHost, owner: object, deadline: Deadline, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  const { writer } = host;
  let ended = false;
  let aborted: HoldfastError | undefined;
  const startedAt = performance.now();
  const end = async (commit: boolean): Promise<void> => {
    ended = true;
    // COMMIT/ROLLBACK must run even when the request deadline has passed: they release the lock.
    const e = host.pending({ kind: "end", commit }, Deadline.NONE, Number.POSITIVE_INFINITY);
    writer.sendInTransaction(owner, e.pj);
    try {
      await e.promise;
    } finally {
      writer.release(owner);
    }
  };
  const limit = Math.max(0, Math.min(deadline.remaining(), host.transactionTimeout));
  const watchdog = setTimeout(() => {
    if (ended) return;
    host.onLeak();
    const held = Math.round(performance.now() - startedAt);
    aborted = errors.deadlineExceeded(
      `A SQLite transaction on ${host.path} held the write lock for ${held} ms, past its deadline (the request's remaining time or ${host.transactionTimeout} ms), and was rolled back so other writers can proceed. Do not await network calls or timers inside db.transaction().`,
      { details: { path: host.path, heldMs: held } },
    );
    host.log.warn({ event: "db.transaction.timeout", path: host.path, heldMs: held }, aborted.message);
    end(false).catch(() => {});
  }, limit);
  watchdog.unref();

  const exec = (spec: JobSpec): Promise<unknown> => {
    if (aborted) return Promise.reject(aborted);
    if (ended) return Promise.reject(errors.dbQueryFailed("This transaction has already committed or rolled back; statements on its `tx` can no longer run."));
    const { pj, promise } = host.pending(spec, deadline, Number.POSITIVE_INFINITY);
    writer.sendInTransaction(owner, pj);
    return promise;
  };
  const stmt = (mode: StatementMode, statement: SqlStatement | string, params?: readonly SqlValue[]) => {
    const s = toStatement(statement, params);
    return exec({ kind: "stmt", mode, stmt: { text: s.text, values: s.values } });
  };
  const tx: Queryable = {
    query: <R = Row>(s: SqlStatement | string, p?: readonly SqlValue[]) => stmt("all", s, p) as Promise<R[]>,
    get: <R = Row>(s: SqlStatement | string, p?: readonly SqlValue[]) => stmt("get", s, p) as Promise<R | undefined>,
    run: (s: SqlStatement | string, p?: readonly SqlValue[]) => stmt("run", s, p) as Promise<RunResult>,
  };

  let value: T;
  try {
    value = await fn(tx);
  } catch (err) {
    clearTimeout(watchdog);
    if (!ended) await end(false).catch(() => {});
    throw aborted ?? err;
  }
  clearTimeout(watchdog);
  if (aborted) throw aborted;
  await end(true);
  return value;
}
