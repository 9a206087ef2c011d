/**
 * Messages between the main thread and the SQLite threads. Plain objects only: they cross
 * `postMessage` (structured clone), so errors travel as `{ code, message, details }` and
 * deadlines as `Date.now()` epoch milliseconds (performance.now() differs per thread).
 */
import type { SerializedError } from "../../errors/index.js";
import type { RunResult, SqlValue } from "../types.js";

/** What a statement job asks for. */
export type StatementMode = "all" | "get" | "run";

/** One statement to run. Job deadlines are the request's deadline (epoch ms, 0 = none). */
export interface WireStatement {
  text: string;
  values: readonly SqlValue[];
}

/**
 * A unit of work sent to a thread. `bound` (writes only; epoch ms, 0 or absent = none) is when the
 * write's whole wait ends, counted from when the caller submitted it: time queued behind other
 * writes counts against the same min(busyTimeout, deadline) as the lock wait itself.
 */
export type Job = JobBody & { bound?: number };

/** A job without its wait bound. */
type JobBody =
  /** A read or a single write: one statement. */
  | { id: number; kind: "stmt"; mode: StatementMode; stmt: WireStatement; deadline: number }
  /** Several writes, all or none. */
  | { id: number; kind: "batch"; stmts: WireStatement[]; deadline: number }
  /** Writer only: BEGIN IMMEDIATE (waits for the lock until `deadline`). */
  | { id: number; kind: "begin"; deadline: number }
  /** Writer only: end the open transaction. */
  | { id: number; kind: "end"; commit: boolean; deadline: number }
  /** Maintenance on the writer; a quiet checkpoint (asked for by inline writes) is not reported as an event. */
  | { id: number; kind: "checkpoint"; mode: CheckpointMode; quiet?: boolean | undefined; deadline: number }
  | { id: number; kind: "optimize"; deadline: number };

/** SQLite checkpoint modes. */
export type CheckpointMode = "PASSIVE" | "FULL" | "RESTART" | "TRUNCATE";

/**
 * The hot path: statement jobs as parallel arrays, with each SQL text sent only the first time a
 * thread sees it (structured clone of nested objects and repeated strings cost more than the
 * point query itself).
 */
export interface PackedStatements {
  type: "packed";
  ids: number[];
  /** One character per job: "a" all, "g" get, "r" run. */
  modes: string;
  /** Statement ids (0 = not cached: the text is in `texts`). */
  sids: number[];
  /** The SQL text where the thread has not seen the statement yet, else null. */
  texts: (string | null)[];
  values: (readonly SqlValue[])[];
  deadlines: number[];
  /** Per job, the end of its whole wait (see {@link Job}); absent for reads. */
  bounds?: number[] | undefined;
  group: boolean;
  inTransaction: boolean;
}

/** Main → thread. `group` asks the writer to run the write jobs in one transaction (group commit). */
export type ToThread = { type: "jobs"; jobs: Job[]; group: boolean; inTransaction: boolean } | PackedStatements | { type: "close" };

/** The outcome of one job. */
export type JobResult = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: SerializedError };

/** Figures from one checkpoint. */
export interface CheckpointResult {
  at: string;
  mode: CheckpointMode;
  busy: number;
  log: number;
  checkpointed: number;
  walBytes: number;
}

/** Thread → main. */
export type FromThread =
  | { type: "ready" }
  | { type: "open-failed"; error: SerializedError }
  /**
   * Results as parallel arrays (errors null when every job succeeded); `done` is false for early
   * failures of jobs whose group still runs. Readers, and the writer for a group commit, add each
   * job's run time on the thread in microseconds (`times`; 0 for a job that did not run a single
   * statement), which decides whether its statement may run inline on the main thread.
   */
  | { type: "results"; ids: number[]; values: unknown[]; errors: (SerializedError | null)[] | null; done: boolean; times?: number[] | undefined }
  /** The writer started (true) or stopped (false) waiting for a lock held elsewhere. */
  | { type: "lock-wait"; waiting: boolean; waitedMs: number; timedOut: number }
  | { type: "checkpoint"; result: CheckpointResult }
  | { type: "log"; level: "warn" | "info" | "error"; event: string; msg: string; fields: Record<string, unknown> };

/** What the thread is given at start. */
export interface ThreadConfig {
  role: "writer" | "reader";
  path: string;
  busyTimeout: number;
  journalSizeLimit: number;
  walAutocheckpoint: number;
  /** PRAGMA mmap_size in bytes (0 = off). */
  mmapSize: number;
  /** Reader page cache in bytes (0 = SQLite's default). */
  readerCacheSize: number;
  /** Nice value a reader thread gives itself (0 = unchanged); the writer keeps its priority. */
  readerNice: number;
  checkpointInterval: number;
  optimizeInterval: number;
  /** Longest wait for a lock held elsewhere, from the statement's start: min(busyTimeout, statementTimeout). */
  lockBudgetMs: number;
  /** Longest single busy_timeout slice; the thread re-checks deadlines between slices. */
  lockSliceMs: number;
}

/** Result of a `run`. */
export type WireRunResult = RunResult;

/**
 * An array of `n` copies of `value` with no holes. Every array in a message is built this way (or
 * by push): `new Array(n)` is holey, and the structured clone writes a holey array as a sparse
 * one, key by key — a message of 10 jobs cost 6.1 µs to post and receive holey, 3.3 µs dense, 64
 * jobs 13–22 µs against 4.3–7.5 (Node 20, one process, postMessage + receiveMessageOnPort).
 */
export function denseArray<T>(n: number, value: T): T[] {
  const a: T[] = [];
  for (let i = 0; i < n; i++) a.push(value);
  return a;
}
