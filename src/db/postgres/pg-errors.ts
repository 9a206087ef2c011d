/**
 * Maps node-postgres and socket errors to holdfast codes. Callers match on `code`; the pg
 * SQLSTATE stays in `details.sqlstate` for the log and the doctor.
 */
import { type HoldfastError, errors, isHoldfastError } from "../../errors/index.js";
import { retryAfterSeconds } from "../retry-after.js";

/** What the mapper needs to know about the pool and the statement. */
export interface PgErrorContext {
  /** Pool size per process (db.pool.max). */
  poolMax: number;
  /** The URL without password, for "cannot reach" messages. */
  url: string;
  /** Why we cancelled the statement ourselves, if we did. */
  cancelledBy?: "deadline" | "statementTimeout" | "aborted" | undefined;
  /** How long the statement was allowed to run (ms), when we cancelled it. */
  limitMs?: number | undefined;
  /** First part of the statement, for DB_QUERY_FAILED. */
  statement?: string | undefined;
}

/** Network errors and SQLSTATE classes that mean "this connection or the server is gone", not "your SQL is wrong". */
const NETWORK_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EPIPE"]);
const GONE_SQLSTATES = new Set(["57P01", "57P02", "57P03", "53300", "28P01", "28000", "3D000"]);
const GONE_MESSAGES = /Connection terminated|connection error and is not queryable|Client was closed|timeout expired|Connection refused|not queryable/i;

interface PgLikeError {
  code?: string;
  message?: string;
  severity?: string;
  detail?: string;
}

/** True when the error means the connection can no longer be used (destroy it, do not reuse). */
export function isConnectionError(err: unknown): boolean {
  if (isHoldfastError(err)) return err.code === "DB_UNAVAILABLE";
  const e = err as PgLikeError | undefined;
  if (!e || typeof e !== "object") return false;
  if (e.code && (NETWORK_CODES.has(e.code) || GONE_SQLSTATES.has(e.code) || e.code.startsWith("08"))) return true;
  return typeof e.message === "string" && GONE_MESSAGES.test(e.message);
}

/** The number of worker processes for the max_connections arithmetic, when the supervisor told us. */
function workersPhrase(poolMax: number): string {
  const w = Number(process.env.HOLDFAST_WORKERS);
  if (Number.isInteger(w) && w > 0) {
    return `db.pool.max (${poolMax}) × ${w} worker processes (HOLDFAST_WORKERS) = ${poolMax * w} connections from this instance`;
  }
  return `db.pool.max (${poolMax}) × number of worker processes connections from this instance`;
}

/** Turns any error from pg or the socket into a HoldfastError. */
export function mapPgError(err: unknown, ctx: PgErrorContext): HoldfastError {
  if (isHoldfastError(err)) return err;
  const e = (err ?? {}) as PgLikeError;
  const code = e.code ?? "";
  const msg = e.message ?? String(err);
  const details = { sqlstate: code || undefined, url: ctx.url };
  // Our cancel ends the statement with 57014, or with a closed socket when the server did not answer the cancel in time.
  if (ctx.cancelledBy && (code === "57014" || isConnectionError(err))) {
    const what =
      ctx.cancelledBy === "deadline"
        ? `the request deadline (${Math.round(ctx.limitMs ?? 0)} ms left when it started) passed`
        : ctx.cancelledBy === "aborted"
          ? "the request was aborted (the client went away)"
          : `it ran longer than db.statementTimeout (${Math.round(ctx.limitMs ?? 0)} ms)`;
    return errors.deadlineExceeded(
      `PostgreSQL statement cancelled because ${what}: ${ctx.statement ?? "(statement)"}. Make the query faster (EXPLAIN ANALYZE it) or give the route a longer deadline.`,
      { cause: err, details: { ...details, limitMs: ctx.limitMs, cancelledBy: ctx.cancelledBy } },
    );
  }
  if (code === "53300") {
    return errors.dbUnavailable(
      `PostgreSQL refused a new connection: ${msg} (SQLSTATE 53300: no connection slots left). This pool may open ${workersPhrase(ctx.poolMax)}, ` +
        "times the number of instances, plus every other client of the server. Keep that total below max_connections minus " +
        "superuser_reserved_connections (SHOW max_connections), lower db.pool.max, or put PgBouncer in front.",
      { cause: err, retryAfter: retryAfterSeconds("unreachable"), details: { ...details, poolMax: ctx.poolMax, workers: process.env.HOLDFAST_WORKERS } },
    );
  }
  if (code === "28P01" || code === "28000" || code === "3D000") {
    return errors.dbUnavailable(
      `PostgreSQL at ${ctx.url} rejected the connection: ${msg} (SQLSTATE ${code}). Check the user, password and database name in db.url.`,
      { cause: err, retryAfter: retryAfterSeconds("refused"), details },
    );
  }
  if (isConnectionError(err)) {
    const reason =
      code === "57P01"
        ? "the server terminated the connection (pg_terminate_backend, or the server is shutting down)"
        : code === "57P03"
          ? "the server is starting up or in recovery"
          : `${msg}${code ? ` (${code})` : ""}`;
    return errors.dbUnavailable(
      `PostgreSQL at ${ctx.url} is unavailable: ${reason}. The broken connection was dropped and the pool opens new ones as needed; retry shortly, and check the server if it persists.`,
      { cause: err, retryAfter: retryAfterSeconds("connection-lost"), details },
    );
  }
  return errors.dbQueryFailed(
    `PostgreSQL rejected the statement: ${msg}${code ? ` (SQLSTATE ${code})` : ""}${e.detail ? ` — ${e.detail}` : ""}. Statement: ${ctx.statement ?? "(statement)"}`,
    {
      cause: err,
      details,
    },
  );
}
