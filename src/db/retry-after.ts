/**
 * The one Retry-After policy of the database layer: every 503 it produces (pool, SQLite lanes,
 * PostgreSQL) takes its seconds from here, so a client backs off alike whichever driver shed it.
 * Runs on the SQLite threads too: it imports nothing.
 */

/** Why the database layer answered 503, which decides how long a retry should wait. */
export type RetryAfterCause =
  /** Saturated (queue full, acquire timed out, lock held elsewhere): free again as soon as the queue drains. */
  | "busy"
  /** One connection broke (server restart, terminated backend); the pool opens a fresh one at once. */
  | "connection-lost"
  /** The server cannot be reached or is restarting: reconnecting takes a few seconds. */
  | "unreachable"
  /** Refused for a reason a person must fix (credentials, database name, file permissions, full disk). */
  | "refused";

/** Seconds a busy (or connection-lost) answer says when no drain rate is known: one second, the smallest whole Retry-After. */
export const BUSY_RETRY_AFTER_S = 1;
/** Seconds while the database cannot be reached (pg's reconnect backoff settles within a few seconds). */
export const UNREACHABLE_RETRY_AFTER_S = 5;
/** Seconds after a refusal a person must fix: retrying sooner only fills the logs. */
export const REFUSED_RETRY_AFTER_S = 30;
/** Longest busy Retry-After a drain estimate may give; past it the estimate is too old to trust. */
const MAX_BUSY_RETRY_AFTER_S = 30;

/** How fast the queue in front of a resource empties, when the caller measured it. */
export interface DrainRate {
  /** Callers queued ahead of a retry. */
  queued: number;
  /** Resources (connections, threads) serving the queue. */
  servers: number;
  /** Typical time one caller holds a resource, in ms (0 = not measured yet): {@link LatencyWindow.typicalMs}. */
  holdMs: number;
}

/**
 * Seconds a client should wait before retrying. For "busy" with a measured drain rate: the time
 * the queue ahead takes to empty (queued × median hold ÷ servers), rounded up, 1 to 30 s;
 * otherwise the documented constant of the cause.
 */
export function retryAfterSeconds(cause: RetryAfterCause, drain?: DrainRate): number {
  if (cause === "connection-lost") return BUSY_RETRY_AFTER_S;
  if (cause === "unreachable") return UNREACHABLE_RETRY_AFTER_S;
  if (cause === "refused") return REFUSED_RETRY_AFTER_S;
  if (drain === undefined || !(drain.holdMs > 0) || !(drain.servers > 0)) return BUSY_RETRY_AFTER_S;
  const seconds = Math.ceil((drain.queued * drain.holdMs) / drain.servers / 1000);
  return Math.min(MAX_BUSY_RETRY_AFTER_S, Math.max(BUSY_RETRY_AFTER_S, seconds));
}
