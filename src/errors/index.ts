/**
 * Every error holdfast raises, in one table (as Fastify keeps lib/errors.js).
 *
 * Callers match on `err.code`, never on the class or message: the code survives
 * `postMessage` between threads and `JSON.stringify` between processes, classes do not.
 * `docs/errors.md` is kept in step with this table by test/errors-doc.test.ts.
 */

/** The catalogue: code → HTTP status the server answers with, and a one-line meaning. */
export const ERROR_CODES = {
  OVERLOADED: { status: 503, summary: "The worker is at its concurrency limit and shed the request." },
  DEADLINE_EXCEEDED: { status: 504, summary: "The request's own deadline passed before a response was ready." },
  POOL_TIMEOUT: { status: 503, summary: "No database connection became free within the acquire timeout or the request's remaining time." },
  POOL_QUEUE_FULL: { status: 503, summary: "Too many callers are already waiting for a database connection; this one failed fast." },
  POOL_CLOSED: { status: 503, summary: "The database pool is closed (the worker is shutting down)." },
  DB_LOCKED: { status: 503, summary: "SQLite stayed locked by another writer past the busy timeout or the request's deadline." },
  DB_UNAVAILABLE: { status: 503, summary: "The database cannot be reached, refused the connection, or has no connection slots left." },
  DB_QUERY_FAILED: { status: 500, summary: "The database rejected the statement (syntax, constraint, type)." },
  DB_CORRUPT: { status: 500, summary: "The database file failed an integrity check or is not a database." },
  CONFIG_INVALID: { status: 500, summary: "A configuration value is missing, malformed or out of range." },
  APP_LOAD_FAILED: { status: 500, summary: "The application module could not be loaded or did not export a usable app." },
  PORT_IN_USE: { status: 500, summary: "A port holdfast must listen on (the app's or the admin endpoint's) is held by another process; nothing was started." },
  DEPENDENCY_MISSING: { status: 500, summary: "A feature in use needs an optional package (pg, ioredis, tsx, pino-pretty) that is not installed." },
  ADMIN_UNAUTHORIZED: { status: 401, summary: "The admin endpoint needs a bearer token and none (or a wrong one) was given." },
  INTERNAL: { status: 500, summary: "The application threw; the request failed but the worker keeps serving." },
  USAGE: { status: 400, summary: "A command-line argument is missing or malformed." },
  BAD_REQUEST: { status: 400, summary: "The request target is not a URL path the app could parse; holdfast answered before the app saw it." },
} as const;

/** One of the codes in {@link ERROR_CODES}. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Options shared by every holdfast error. */
export interface HoldfastErrorOptions {
  /** The lower-level error this one explains. */
  cause?: unknown;
  /** Seconds a client should wait before retrying (sets `Retry-After` on 503s). */
  retryAfter?: number;
  /** Structured facts for logs and the doctor (never secrets). */
  details?: Record<string, unknown>;
}

/** Base class of every error holdfast raises; carries a stable `code` and `httpStatus`. */
export class HoldfastError extends Error {
  readonly code: ErrorCode;
  readonly httpStatus: number;
  readonly retryAfter: number | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: HoldfastErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "HoldfastError";
    this.code = code;
    this.httpStatus = ERROR_CODES[code].status;
    this.retryAfter = options.retryAfter;
    this.details = options.details;
  }

  /** Plain-object form that survives postMessage / JSON and is rebuilt by {@link fromSerialized}. */
  toJSON(): SerializedError {
    return {
      code: this.code,
      message: this.message,
      retryAfter: this.retryAfter,
      details: this.details,
    };
  }
}

/** Wire form of a {@link HoldfastError}. */
export interface SerializedError {
  code: ErrorCode;
  message: string;
  retryAfter?: number | undefined;
  details?: Record<string, unknown> | undefined;
}

/** Rebuilds a HoldfastError from its wire form (e.g. after crossing a worker thread). */
export function fromSerialized(s: SerializedError): HoldfastError {
  return new HoldfastError(s.code, s.message, { retryAfter: s.retryAfter, details: s.details });
}

/** True when `err` is a HoldfastError or anything carrying one of our codes. */
export function isHoldfastError(err: unknown): err is HoldfastError {
  return (
    typeof err === "object" &&
    err !== null &&
    typeof (err as { code?: unknown }).code === "string" &&
    (err as { code: string }).code in ERROR_CODES &&
    typeof (err as { httpStatus?: unknown }).httpStatus === "number"
  );
}

/** The one factory per code, so call sites read as what happened. */
export const errors = {
  overloaded: (message: string, o?: HoldfastErrorOptions) => new HoldfastError("OVERLOADED", message, o),
  deadlineExceeded: (message: string, o?: HoldfastErrorOptions) => new HoldfastError("DEADLINE_EXCEEDED", message, o),
  poolTimeout: (message: string, o?: HoldfastErrorOptions) => new HoldfastError("POOL_TIMEOUT", message, o),
  poolQueueFull: (message: string, o?: HoldfastErrorOptions) => new HoldfastError("POOL_QUEUE_FULL", message, o),
  poolClosed: (message: string, o?: HoldfastErrorOptions) => new HoldfastError("POOL_CLOSED", message, o),
  dbLocked: (message: string, o?: HoldfastErrorOptions) => new HoldfastError("DB_LOCKED", message, o),
  dbUnavailable: (message: string, o?: HoldfastErrorOptions) => new HoldfastError("DB_UNAVAILABLE", message, o),
  dbQueryFailed: (message: string, o?: HoldfastErrorOptions) => new HoldfastError("DB_QUERY_FAILED", message, o),
  dbCorrupt: (message: string, o?: HoldfastErrorOptions) => new HoldfastError("DB_CORRUPT", message, o),
  configInvalid: (message: string, o?: HoldfastErrorOptions) => new HoldfastError("CONFIG_INVALID", message, o),
  appLoadFailed: (message: string, o?: HoldfastErrorOptions) => new HoldfastError("APP_LOAD_FAILED", message, o),
  portInUse: (message: string, o?: HoldfastErrorOptions) => new HoldfastError("PORT_IN_USE", message, o),
  dependencyMissing: (message: string, o?: HoldfastErrorOptions) => new HoldfastError("DEPENDENCY_MISSING", message, o),
  adminUnauthorized: (message: string, o?: HoldfastErrorOptions) => new HoldfastError("ADMIN_UNAUTHORIZED", message, o),
  internal: (message: string, o?: HoldfastErrorOptions) => new HoldfastError("INTERNAL", message, o),
  usage: (message: string, o?: HoldfastErrorOptions) => new HoldfastError("USAGE", message, o),
  badRequest: (message: string, o?: HoldfastErrorOptions) => new HoldfastError("BAD_REQUEST", message, o),
};
