/**
 * The pool's error messages, written for the person paged at 3 a.m.: what happened, the
 * numbers that prove it, and what to change.
 */
import { errors, type HoldfastError, isHoldfastError } from "../../errors/index.js";
import { type DrainRate, retryAfterSeconds } from "../retry-after.js";

/** Pool figures quoted in errors and logs. */
export interface PoolFacts {
  pool: string;
  size: number;
  busy: number;
  idle: number;
  waiting: number;
  max: number;
}

/** How fast the pool's queue drains: its waiters, its connections, and how long one is typically held. */
export function poolDrain(f: PoolFacts, typicalHoldMs: number): DrainRate {
  return { queued: f.waiting, servers: f.max, holdMs: typicalHoldMs };
}

const ms = (n: number) => `${Math.round(n)} ms`;

/** POOL_TIMEOUT: no resource became free in time. `cutByDeadline` says the request deadline, not acquireTimeout, ended the wait. */
export function poolTimeoutError(
  f: PoolFacts,
  waitedMs: number,
  acquireTimeout: number,
  cutByDeadline: boolean,
  drain: DrainRate,
  createError?: unknown,
): HoldfastError {
  const why = cutByDeadline
    ? `the request deadline cut the wait for a connection after ${ms(waitedMs)} (db.pool.acquireTimeout is ${ms(acquireTimeout)}, but the request had only ${ms(waitedMs)} left)`
    : `no connection became free within db.pool.acquireTimeout (${ms(acquireTimeout)})`;
  const advice =
    createError === undefined
      ? `${f.busy} of max ${f.max} connections were busy and ${f.waiting} other callers were waiting. ` +
        "Hold connections for less time (no slow work or outbound calls inside a transaction), raise db.pool.max if the database has room, " +
        "and turn on db.pool.leakDetectionThreshold to see who holds them."
      : `Only ${f.size} of max ${f.max} connections are open and opening more is failing: ${describe(createError)}`;
  return errors.poolTimeout(`Pool "${f.pool}": ${why}. ${advice}`, {
    cause: createError,
    retryAfter: retryAfterSeconds("busy", drain),
    details: { ...f, waitedMs: Math.round(waitedMs), acquireTimeoutMs: acquireTimeout, cutByDeadline },
  });
}

/** DB_UNAVAILABLE: waiters timed out while every attempt to open a connection failed. */
export function unreachableError(f: PoolFacts, waitedMs: number, failures: number, lastError: unknown): HoldfastError {
  const last = describe(lastError);
  return errors.dbUnavailable(
    `Pool "${f.pool}": could not open a database connection within ${ms(waitedMs)}; ${failures} attempt${failures === 1 ? "" : "s"} in a row failed ` +
      `(retrying with backoff). Last error: ${last} Check that the database is up and reachable from this host.`,
    { cause: lastError, retryAfter: retryAfterSeconds("unreachable"), details: { ...f, waitedMs: Math.round(waitedMs), createFailures: failures } },
  );
}

/** POOL_QUEUE_FULL: too many callers already waiting. */
export function queueFullError(f: PoolFacts, maxWaiting: number, drain: DrainRate): HoldfastError {
  return errors.poolQueueFull(
    `Pool "${f.pool}": ${f.waiting} callers are already waiting for a connection (db.pool.maxWaiting is ${maxWaiting}); this one failed at once ` +
      `instead of queueing. All ${f.busy} of max ${f.max} connections are busy: the database is slower than the arrival rate. ` +
      "Shed load earlier (admission limits) or make the queries faster.",
    { retryAfter: retryAfterSeconds("busy", drain), details: { ...f, maxWaiting } },
  );
}

/** DEADLINE_EXCEEDED: the request's deadline had passed before the acquire started. */
export function deadlinePassedError(pool: string, overByMs: number): HoldfastError {
  return errors.deadlineExceeded(
    `The request deadline passed ${ms(overByMs)} before it asked pool "${pool}" for a connection; nothing was sent to the database.`,
    { details: { pool, overByMs: Math.round(overByMs) } },
  );
}

/** DEADLINE_EXCEEDED: the request was aborted (client gone, deadline passed) while it waited. */
export function abortedError(pool: string, waitedMs: number, reason: unknown): HoldfastError {
  return errors.deadlineExceeded(
    `The request was aborted (${describe(reason)}) after waiting ${ms(waitedMs)} for a connection from pool "${pool}"; it left the queue without using the database.`,
    { cause: reason, details: { pool, waitedMs: Math.round(waitedMs) } },
  );
}

/** The `pool.leak` log line. */
export function leakMessage(pool: string, id: number, heldMs: number, thresholdMs: number): string {
  return (
    `Pool "${pool}": connection #${id} has been held for ${heldMs} ms (db.pool.leakDetectionThreshold ${thresholdMs} ms) and not released. ` +
    "The stack in this event shows who acquired it; make sure every path releases it (pool.use() and db.transaction() do)."
  );
}

/** POOL_CLOSED: the pool is shutting down. */
export function closedError(pool: string): HoldfastError {
  return errors.poolClosed(`Pool "${pool}" is closed (the worker is shutting down); retry on another worker.`, {
    retryAfter: retryAfterSeconds("busy"),
    details: { pool },
  });
}

function describe(err: unknown): string {
  return isHoldfastError(err) ? err.message : err instanceof Error ? err.message : String(err);
}
