/**
 * The database API contract (DESIGN.md): the same for SQLite and PostgreSQL.
 * Apps get a {@link Database} as `ctx.db`; the server reads `status()` for /status and /metrics.
 */

/** A value that can be bound as a statement parameter. */
export type SqlValue = string | number | bigint | boolean | null | Uint8Array | Date;

/** A statement with its parameters, built by the `sql` tagged template (portable placeholders). */
export interface SqlStatement {
  /** SQL text with `?` placeholders (drivers rewrite to `$n` for PostgreSQL). */
  readonly text: string;
  /** Parameters, in placeholder order. */
  readonly values: readonly SqlValue[];
}

/** A result row. */
export type Row = Record<string, unknown>;

/** What a write reports. */
export interface RunResult {
  /** Rows changed. */
  changes: number;
  /** SQLite rowid of the last insert (PostgreSQL: undefined; use RETURNING). */
  lastInsertRowid?: number | bigint | undefined;
}

/** What can run statements: the database itself, or a transaction. */
export interface Queryable {
  /** All rows. */
  query<T = Row>(statement: SqlStatement | string, params?: readonly SqlValue[]): Promise<T[]>;
  /** The first row, or undefined. */
  get<T = Row>(statement: SqlStatement | string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** A write; returns changes and last rowid. */
  run(statement: SqlStatement | string, params?: readonly SqlValue[]): Promise<RunResult>;
}

/** Latency summary in milliseconds. */
export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  count: number;
}

/** Snapshot of a connection pool (the seed's `get_pool_status()`), read by /status, /metrics and the doctor. */
export interface PoolStatus {
  /** Connections open (busy + idle). */
  size: number;
  /** Connections lent out. */
  busy: number;
  /** Connections open and free. */
  idle: number;
  /** Callers waiting for a connection. */
  waiting: number;
  /** Most connections allowed. */
  max: number;
  /** busy / max, 0..1. */
  utilization: number;
  /** How long acquires waited. */
  acquireWaitMs: LatencySummary;
  /** How long connections were held. */
  usageMs: LatencySummary;
  /** Counters since the pool was opened. */
  timeouts: number;
  queueFull: number;
  creates: number;
  createErrors: number;
  destroys: number;
  validationFailures: number;
  errors: number;
  leaks: number;
}

/** SQLite-specific health, when the database is SQLite. */
export interface SqliteStatus {
  path: string;
  journalMode: string;
  walBytes: number;
  lastCheckpoint?: { at: string; busy: number; log: number; checkpointed: number } | undefined;
  lockWaits: number;
  lockTimeouts: number;
  /** Writes failed at once because db.sqlite.lockWaiters writes were already waiting for a lock held elsewhere. */
  lockShed?: number | undefined;
  /** Writes queued for the writer thread. */
  writeQueue: number;
  /** How reads ran: inline on the main thread (statement measured fast) or on a reader thread. */
  reads?: SqliteRouteCounts | undefined;
  /** How db.run() writes ran: inline on the main thread's connection or on the writer thread. */
  writes?: SqliteRouteCounts | undefined;
}

/** Where statements ran since the database opened (see docs/database.md, "Inline reads" and "Inline writes"). */
export interface SqliteRouteCounts {
  /** Statements run on the main thread. */
  inline: number;
  /** Statements sent to a thread (reads: a reader thread, or the writer for `sqlite::memory:`; writes: the writer). */
  threaded: number;
  /** Times a statement ran over the threshold inline and went back to the threads. */
  demotions: number;
  /** Inline statements that met a lock (SQLITE_BUSY) and were re-run on a thread. */
  busyFallbacks: number;
  /** Times every inline statement of the kind was paused because demotions came too often (10 within 1 s). */
  pauses: number;
  /** Demotions undone because a garbage collection during the run, not the statement, made it slow. */
  gcRestored: number;
  /** Statements allowed inline right now. */
  inlineStatements: number;
}

/** Read routing counts (the name before inline writes; same shape). */
export type SqliteReadCounts = SqliteRouteCounts;

/** What `status()` returns. */
export interface DatabaseStatus {
  dialect: "sqlite" | "postgres";
  /** URL with any password removed. */
  url: string;
  pool: PoolStatus;
  sqlite?: SqliteStatus | undefined;
}

/** The database handed to apps as `ctx.db`. */
export interface Database extends Queryable {
  readonly dialect: "sqlite" | "postgres";
  /** Runs the statements atomically (all or none). */
  batch(statements: readonly SqlStatement[]): Promise<RunResult[]>;
  /** Runs `fn` in a write transaction (BEGIN IMMEDIATE on SQLite); rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Pool and engine health. */
  status(): DatabaseStatus;
  /** Waits for running statements, then closes every connection/thread. */
  close(): Promise<void>;
}
