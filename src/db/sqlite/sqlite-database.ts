/**
 * The SQLite Database: one writer thread and N reader threads per process, so neither a lock
 * wait nor a slow query ever blocks the event loop. Every wait is bounded by the smaller of its
 * own limit and the current request's remaining deadline.
 */
import { performance } from "node:perf_hooks";
import { AsyncLocalStorage } from "node:async_hooks";
import { currentContext, currentDeadline, Deadline } from "../../context/index.js";
import { errors, type HoldfastError } from "../../errors/index.js";
import { type Logger, silentLogger } from "../../telemetry/index.js";
import { toStatement } from "../sql.js";
import type { Database, DatabaseStatus, Queryable, RunResult, Row, SqliteStatus, SqlStatement, SqlValue } from "../types.js";
import { walBytes } from "./connection.js";
import { LaneStats, threadPoolStatus } from "./lane-stats.js";
import type { CheckpointResult, FromThread, JobResult } from "./protocol.js";
import { watchGcPauses } from "./gc-pauses.js";
import { InlineConnection, inlineWritable, NOT_INLINE } from "./inline-connection.js";
import { InlineProfiles, type StatementProfile } from "./inline-profiles.js";
import { ReaderPool } from "./reader-pool.js";
import { type JobSpec, type PendingJob, SqliteThread, type ThreadHooks } from "./thread-handle.js";
import { prepareFile } from "./prepare-file.js";
import { slowReadError, sqliteClosedError } from "./sqlite-errors.js";
import { resolveSqliteOptions, type SqliteDatabaseOptions, type SqliteSettings, threadConfig } from "./sqlite-options.js";
import { runTransaction } from "./transaction.js";
import { WriterLane } from "./writer-lane.js";

export type { SqliteDatabaseOptions, SqliteSettings } from "./sqlite-options.js";

/** Checkpoints for inline writes (each walAutocheckpoint pages) the WAL may hold before one catches up so that it restarts (#afterWrite). */
const CATCH_UP_CHECKPOINTS = 4;
/** Statement texts profiled for inline reads; past it (dynamic SQL) new texts stay on the threads. */
const MAX_PROFILED_STATEMENTS = 1000;

/** Opens a SQLite database on worker threads. */
export async function openSqlite(options: SqliteDatabaseOptions): Promise<SqliteDatabase> {
  prepareFile(options.path);
  const db = new SqliteDatabase(options);
  try {
    await db.start();
  } catch (err) {
    await db.abort();
    throw err;
  }
  return db;
}

/** A {@link Database} over one SQLite file. Create it with {@link openSqlite}. */
export class SqliteDatabase implements Database {
  readonly dialect = "sqlite" as const;
  readonly path: string;
  readonly #settings: SqliteSettings;
  readonly #acquireTimeout: number;
  readonly #transactionTimeout: number;
  readonly #statementCap: number;
  #readersConfigured = 0;
  readonly #log: Logger;
  readonly #readers: ReaderPool;
  readonly #writer: WriterLane;
  readonly #readStats = new LaneStats();
  readonly #writeStats = new LaneStats();
  readonly #txScope = new AsyncLocalStorage<object>();
  readonly #profiles: InlineProfiles;
  /** Write statements measured on the writer thread, for inline writes (db.sqlite.inlineWriteThresholdUs). */
  readonly #writeProfiles: InlineProfiles;
  /** The main thread's connection (WAL files only, when inline reads or writes are on; read-only without inline writes). */
  #inline: InlineConnection | undefined;
  /** Stops feeding garbage-collection pauses to the inline profiles. */
  #unwatchGc: (() => void) | undefined;
  /** Writes (inline, and on the writer thread) since the writer thread last checkpointed for them. */
  #writesUnchecked = 0;
  #inlineCheckpointQueued = false;
  /**
   * Inline writes wait for the checkpoint running alongside them: a loop of inline writes never
   * yields to the event loop (each resolves at once), so it would never see that checkpoint finish,
   * and the WAL would grow for as long as the loop ran. Set after one more walAutocheckpoint's worth.
   */
  #inlineWritesHeld = false;
  /**
   * A checkpoint finished: the next write may start the WAL over from its beginning, and SQLite
   * fsyncs the new WAL header when it does (0.2–1 ms here, more on a slow disk). That write goes
   * to the writer thread, so the fsync happens there and not on the event loop.
   */
  #walRestartPending = false;
  #closed = false;
  #creates = 0;
  #createErrors = 0;
  #destroys = 0;
  #leaks = 0;
  #lockWaits = 0;
  #lockTimeouts = 0;
  #lastCheckpoint: CheckpointResult | undefined;
  #journalMode = "wal";

  constructor(options: SqliteDatabaseOptions) {
    this.path = options.path;
    const o = resolveSqliteOptions(options);
    this.#settings = o.settings;
    this.#readersConfigured = o.readersConfigured;
    this.#journalMode = o.journalMode;
    this.#acquireTimeout = o.acquireTimeout;
    this.#transactionTimeout = o.transactionTimeout;
    this.#statementCap = o.statementCap;
    this.#log = options.log ?? silentLogger();
    const inlineOff = this.path === ":memory:";
    this.#profiles = new InlineProfiles({
      thresholdUs: inlineOff ? 0 : Math.max(0, this.#settings.inlineReadThresholdUs),
      proofRuns: o.inlineAfterRuns,
      maxStatements: MAX_PROFILED_STATEMENTS,
    });
    this.#writeProfiles = new InlineProfiles({
      thresholdUs: inlineOff ? 0 : Math.max(0, this.#settings.inlineWriteThresholdUs),
      proofRuns: o.inlineAfterRuns,
      maxStatements: MAX_PROFILED_STATEMENTS,
    });
    const maxWaiting = o.maxWaiting;
    this.#readers = new ReaderPool(
      {
        maxWaiting,
        batchesPerThread: 1,
        jobsPerMessage: 128,
        path: this.path,
        runInline: (pj) => this.#runQueuedRead(pj),
        promotions: () => this.#profiles.promotions,
      },
      this.#readStats,
    );
    this.#writer = new WriterLane(
      {
        maxWaiting,
        groupMax: o.groupMax,
        lockWaiters: Math.max(1, this.#settings.lockWaiters),
        path: this.path,
        onLocked: (err) => this.#log.warn({ event: "db.locked", ...err.details }, err.message),
        runInline: (pj) => this.#runQueuedInline(pj),
      },
      this.#writeStats,
    );
  }

  #spawn(role: "writer" | "reader"): SqliteThread {
    this.#creates++;
    const lane = role === "writer" ? this.#writeStats : this.#readStats;
    let thread: SqliteThread;
    const hooks: ThreadHooks = {
      onResult: (pj, r) => this.#onResult(role, lane, pj, r),
      onRan: (p, micros) => (role === "writer" ? this.#writeProfiles : this.#profiles).threadedRun(p, micros),
      onIdle: () => (role === "writer" ? this.#writer.pump() : this.#readers.pump(true)),
      onEvent: (m) => this.#onEvent(m),
      onExit: (err) => this.#respawn(role, thread, err),
    };
    const config = threadConfig(role, this.path, this.#settings, this.#statementCap);
    // With inline writes the main thread asks for checkpoints, counting every write (#afterWrite), and
    // lets the WAL hold CATCH_UP_CHECKPOINTS of them before it starts over. SQLite's own, on the
    // writer's connection, would fire at each of its commits past walAutocheckpoint pages (a checkpoint
    // with two fsyncs inside a group commit, writes queued behind it, and a WAL restart the main thread
    // does not hear of): it stays as a backstop past that bound.
    if (role === "writer" && this.#writeProfiles.enabled && config.walAutocheckpoint > 0) {
      config.walAutocheckpoint *= CATCH_UP_CHECKPOINTS + 1;
    }
    thread = new SqliteThread(config, hooks);
    return thread;
  }

  #expiry: NodeJS.Timeout | undefined;

  /** Starts the writer (which creates the file and switches it to WAL), then the readers. */
  async start(): Promise<void> {
    this.#expiry = setInterval(() => this.#expireSlowReads(), 10);
    this.#expiry.unref();
    const writer = this.#spawn("writer");
    this.#writer.thread = writer;
    await writer.ready;
    const readers = Array.from({ length: this.#settings.readers }, () => this.#spawn("reader"));
    this.#readers.threads.push(...readers);
    await Promise.all(readers.map((r) => r.ready));
    if (this.#profiles.enabled || this.#writeProfiles.enabled) {
      try {
        this.#inline = new InlineConnection(this.path, this.#profiles, this.#writeProfiles.enabled ? this.#writeProfiles : undefined);
        this.#unwatchGc = watchGcPauses((start, durationMs) => {
          this.#profiles.gcPause(start, durationMs);
          this.#writeProfiles.gcPause(start, durationMs);
        });
      } catch (err) {
        // Not fatal: every statement keeps going to the threads, as with both inline thresholds at 0.
        this.#log.warn(
          { event: "db.inline.unavailable", path: this.path, err: (err as Error).message },
          `SQLite ${this.path}: the main thread could not open its own connection (${(err as Error).message}); all reads use the reader threads and all writes the writer thread.`,
        );
      }
    }
    const s = this.#settings;
    this.#log.info(
      {
        event: "db.open",
        dialect: "sqlite",
        path: this.path,
        readers: s.readers,
        readersConfigured: this.#readersConfigured,
        busyTimeout: s.busyTimeout,
        journalMode: this.#journalMode,
      },
      `SQLite ${this.path} open: 1 writer thread, ${s.readers} reader thread(s)${s.readers < this.#readersConfigured ? ` (db.sqlite.readers = ${this.#readersConfigured}, capped at CPU cores − 1)` : ""}, WAL, busy timeout ${s.busyTimeout} ms`,
    );
  }

  /** Stops every thread after a failed open. */
  async abort(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#expiry);
    this.#closeInline();
    await Promise.all([this.#writer.thread, ...this.#readers.threads].map((t) => t?.terminate()));
  }

  #expireSlowReads(): void {
    const now = performance.now();
    if (this.#readers.threads.length === 0) return;
    for (const t of this.#readers.threads) {
      if (t.inflight === 0) continue;
      this.#readStats.timeouts += t.expireInflight(now, (pj, byStatementTimeout) => {
        const sqlText = pj.spec.kind === "stmt" ? pj.spec.stmt.text.slice(0, 200) : undefined;
        return slowReadError(this.path, Math.round(now - pj.sentAt), byStatementTimeout ? this.#statementCap : undefined, sqlText);
      });
    }
  }

  #respawn(role: "writer" | "reader", dead: SqliteThread, err: HoldfastError): void {
    this.#destroys++;
    this.#log.error({ event: "db.thread.exit", role, path: this.path }, err.message);
    if (this.#closed) return;
    const fresh = this.#spawn(role);
    fresh.ready.then(
      () => {
        if (role === "reader") this.#readers.pump();
        else this.#writer.pump();
      },
      (e: HoldfastError) => {
        this.#createErrors++;
        this.#log.error({ event: "db.thread.start_failed", role, path: this.path }, e.message);
      },
    );
    if (role === "writer") {
      this.#writer.thread = fresh;
      this.#writer.lockWaiting = false;
      // SQLite rolled back the dead connection's open transaction; its statements now fail as "ended".
      this.#writer.resetOwner();
    } else {
      const i = this.#readers.threads.indexOf(dead);
      if (i >= 0) this.#readers.threads[i] = fresh;
    }
  }

  #onResult(role: "writer" | "reader", lane: LaneStats, pj: PendingJob, r: JobResult | undefined): boolean {
    lane.usage.record(performance.now() - pj.sentAt);
    if (r && !r.ok) {
      if (role === "reader" && r.error.details?.needsWriter) {
        if (pj.profile) pj.profile.never = true;
        // A read's profile: the writer's run time must not count toward a write profile.
        pj.profile = undefined;
        // A write sent through query()/get() (e.g. INSERT … RETURNING): readers are query_only, so it goes to the writer.
        // Its wait bound starts now (pj.queuedAt is reset): min(busyTimeout, deadline) as for any write.
        pj.queuedAt = performance.now();
        pj.waitBoundAt = pj.queuedAt + Math.min(this.#settings.busyTimeout, this.#statementCap, pj.deadline.remaining());
        this.#writer.submit(pj);
        return true;
      }
      lane.errors++;
      if (r.error.code === "DB_LOCKED") this.#log.warn({ event: "db.locked", path: this.path, ...r.error.details }, r.error.message);
    } else if (pj.spec.kind === "begin" && pj.owner) this.#writer.own(pj.owner);
    // With inline writes on, pages the writer thread added to the WAL count toward the next checkpoint as inline writes' do.
    else if (role === "writer" && this.#writeProfiles.enabled && (pj.spec.kind === "batch" || (pj.spec.kind === "stmt" && pj.spec.mode === "run"))) {
      this.#afterWrite(pj.spec.kind === "batch" ? pj.spec.stmts.length : 1);
    }
    // A checkpoint with inline writes alongside leaves their pages behind: no restart to route for (#checkpointForInline).
    else if (pj.spec.kind === "checkpoint" && !pj.alongsideInline) this.#walRestartPending = true;
    return false;
  }

  #onEvent(m: FromThread): void {
    if (m.type === "lock-wait") {
      this.#writer.lockWaiting = m.waiting;
      if (m.waiting) {
        this.#lockWaits++;
        this.#writer.lockWaitSince = performance.now();
        this.#writer.parkWaiting();
      } else this.#lockTimeouts += m.timedOut;
    } else if (m.type === "checkpoint") {
      this.#lastCheckpoint = m.result;
      this.#walRestartPending = true;
      // The doctor's wal-growth rule reads these; one line per checkpoint round (30 s by default).
      const r = m.result;
      this.#log.info(
        { event: "wal.size", path: this.path, walBytes: r.walBytes, mode: r.mode, log: r.log, checkpointed: r.checkpointed, busy: r.busy },
        `WAL of ${this.path} is ${r.walBytes} bytes after a ${r.mode} checkpoint`,
      );
    } else if (m.type === "log") this.#log[m.level]({ event: m.event, ...m.fields }, m.msg);
  }

  #pending(spec: JobSpec, deadline: Deadline, limitMs: number, bounded = false, now = performance.now()): { pj: PendingJob; promise: Promise<unknown> } {
    let resolve!: (v: unknown) => void;
    let reject!: (e: HoldfastError) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const pj: PendingJob = {
      spec,
      deadline,
      statementCapMs: this.#statementCap,
      queuedAt: now,
      queueLimitAt: now + Math.min(limitMs, deadline.remaining()),
      // A write's whole wait for the lock, queue included, is min(busyTimeout, statementTimeout, deadline) from now.
      waitBoundAt: bounded ? now + Math.min(this.#settings.busyTimeout, this.#statementCap, deadline.remaining()) : undefined,
      sentAt: now,
      settled: false,
      resolve,
      reject,
    };
    return { pj, promise };
  }

  /**
   * The deadline of a statement starting now (`now`: performance.now(), read once per statement and
   * also used to time an inline run: each read costs 50–75 ns on a VM, a point read's whole
   * holdfast overhead a few hundred).
   */
  #admit(what: string, now = performance.now()): Deadline {
    if (this.#closed) throw sqliteClosedError(`The SQLite database ${this.path} is closed (the worker is shutting down), so ${what} did not run.`);
    const deadline = currentDeadline();
    deadline.checkAt(now, what);
    return deadline;
  }

  /** True inside db.transaction(fn); the async-context lookup only while a transaction holds the writer. */
  #inTransaction(): boolean {
    return this.#writer.owned && this.#txScope.getStore() !== undefined;
  }

  #read(mode: "all" | "get", s: SqlStatement): Promise<unknown> {
    const now = performance.now();
    let deadline: Deadline;
    try {
      deadline = this.#admit("the SQLite query", now);
    } catch (err) {
      return Promise.reject(err);
    }
    const inline = this.#inline;
    const profile = inline === undefined ? undefined : this.#profiles.profile(s.text);
    // Fast path: a statement measured fast runs right here, saving the thread round trip that costs
    // more than the query. Never inside db.transaction(fn): its reads keep the threaded semantics;
    // nor while inline reads are paused (slow inline runs came too often: the machine lacks cores).
    if (profile?.inline && this.#profiles.inlineAllowed && !this.#inTransaction()) {
      const out = (inline as InlineConnection).read(profile, mode, s.values, now);
      if (out !== NOT_INLINE) return Promise.resolve(out);
    }
    return this.#readThreaded(mode, s, deadline, profile);
  }

  /**
   * A read on a reader thread. Kept out of #read on purpose: once reads run inline this path goes
   * cold, and its stale type feedback (maps of PendingJob objects deprecated while warming up) made
   * V8 abort every optimization of #read (--trace-opt: "Maps became deprecated during optimization",
   * 30–56 times per 100 000 reads), leaving the inline path unoptimized (a fixed-count read-only loop
   * of 64 clients, 3 interleaved rounds: 8.2–14.2 µs of process CPU per point read before the split,
   * 5.7–7.9 µs after, better-sqlite3 called directly 5.1–9.3 µs).
   */
  #readThreaded(mode: "all" | "get", s: SqlStatement, deadline: Deadline, profile: StatementProfile | undefined): Promise<unknown> {
    this.#profiles.counts.threaded++;
    const { pj, promise } = this.#pending({ kind: "stmt", mode, stmt: { text: s.text, values: s.values } }, deadline, this.#acquireTimeout);
    if (profile !== undefined && !profile.never) {
      pj.profile = profile;
      pj.inTransaction = this.#inTransaction();
    }
    // Kept for a read that turns out to write (INSERT … RETURNING): re-routed to the writer, it may wait for a lock.
    pj.ctx = currentContext();
    if (this.#readers.threads.length === 0) this.#writer.submit(pj);
    else this.#readers.submit(pj);
    return promise;
  }

  #write(spec: JobSpec): Promise<unknown> {
    const now = performance.now();
    let deadline: Deadline;
    try {
      deadline = this.#admit("the SQLite write", now);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#writer.owned && this.#writer.isOwner(this.#txScope.getStore())) {
      return Promise.reject(
        errors.dbQueryFailed(
          "db.run()/db.batch()/db.transaction() was called inside db.transaction(): it would wait for the writer that this transaction holds. Use the `tx` argument for statements inside the transaction.",
        ),
      );
    }
    let profile: StatementProfile | undefined;
    if (spec.kind === "stmt" && this.#inline !== undefined && this.#writeProfiles.enabled && inlineWritable(spec.stmt.text)) {
      profile = this.#writeProfiles.profile(spec.stmt.text);
      // Only while the writer is idle: nothing queued or running there can then commit after this
      // write though submitted before it, and no transaction or lock wait holds the writer.
      if (profile?.inline && this.#writer.idle && !this.#inlineWritesHeld && this.#writeProfiles.inlineAllowed && !this.#takeWalRestart()) {
        try {
          const out = this.#writeInline(this.#inline, profile, spec.stmt.values, now);
          if (out !== NOT_INLINE) return Promise.resolve(out);
        } catch (err) {
          return Promise.reject(err);
        }
      }
    }
    const { pj, promise } = this.#pending(spec, deadline, this.#acquireTimeout, spec.kind === "stmt" || spec.kind === "batch", now);
    pj.ctx = currentContext();
    if (profile !== undefined && !profile.never) pj.profile = profile;
    if (spec.kind === "stmt") this.#writeProfiles.counts.threaded++;
    this.#writer.submit(pj);
    return promise;
  }

  /** True (once) when a checkpoint has finished since: the write asking goes to the writer thread instead. */
  #takeWalRestart(): boolean {
    if (!this.#walRestartPending) return false;
    this.#walRestartPending = false;
    return true;
  }

  /** A read queued for a reader thread, run inline now if its statement was promoted meanwhile (see ReaderPoolOptions.runInline). */
  #runQueuedRead(pj: PendingJob): boolean {
    const spec = pj.spec;
    const p = pj.profile;
    const inline = this.#inline;
    if (
      spec.kind !== "stmt" ||
      spec.mode === "run" ||
      p === undefined ||
      !p.inline ||
      pj.inTransaction ||
      inline === undefined ||
      !this.#profiles.inlineAllowed
    ) {
      return false;
    }
    const now = performance.now();
    if (pj.deadline.at <= now) return false;
    const { mode, stmt } = spec;
    return this.#settleQueued(pj, this.#profiles, () => inline.read(p, mode, stmt.values, now));
  }

  /**
   * Settles a queued job with what `run` returned when it ran inline (NOT_INLINE: it did not, and
   * stays queued; false) or with what it threw. It was counted as threaded when it was queued.
   */
  #settleQueued(pj: PendingJob, profiles: InlineProfiles, run: () => unknown): boolean {
    let out: unknown;
    try {
      out = run();
    } catch (err) {
      pj.settled = true;
      pj.reject(err as HoldfastError);
      return true;
    }
    if (out === NOT_INLINE) return false;
    profiles.counts.threaded--;
    pj.settled = true;
    pj.resolve(out);
    return true;
  }

  /** A write queued for the writer, run inline now if its statement may (see WriterLaneOptions.runInline). */
  #runQueuedInline(pj: PendingJob): boolean {
    const spec = pj.spec;
    const p = pj.profile;
    const inline = this.#inline;
    if (
      spec.kind !== "stmt" ||
      spec.mode !== "run" ||
      p === undefined ||
      !p.inline ||
      inline === undefined ||
      !this.#writeProfiles.inlineAllowed ||
      pj.deadline.expired
    )
      return false;
    // False: it leads the group the writer runs next.
    if (this.#takeWalRestart()) return false;
    return this.#settleQueued(pj, this.#writeProfiles, () => this.#writeInline(inline, p, spec.stmt.values, performance.now()));
  }

  /** One inline write, from #write or from the queue: counts a failure, asks for a checkpoint when due. */
  #writeInline(inline: InlineConnection, p: StatementProfile, values: readonly SqlValue[], t0: number): RunResult | typeof NOT_INLINE {
    let out: RunResult | typeof NOT_INLINE;
    try {
      out = inline.write(p, values, t0);
    } catch (err) {
      this.#writeStats.errors++;
      throw err;
    }
    if (out !== NOT_INLINE) this.#afterWrite();
    return out;
  }

  /**
   * The main thread's connection does not checkpoint (that is file I/O and an fsync on the event
   * loop): after walAutocheckpoint writes, inline or on the writer thread (each adds at least one
   * page), the writer thread runs a PASSIVE one, in two steps.
   *
   * The bulk (6-25 ms for 1 000 pages on a 2-core VM, two fsyncs included) runs alongside inline
   * writes: a PASSIVE checkpoint never takes the write lock, and a write waiting for it would soon
   * have every request that writes waiting too (bench:sqlite: the loop idle 8-10 % of the time,
   * against none for better-sqlite3 on the main thread, which checkpoints where it writes).
   * Pages written meanwhile stay in the WAL, which then cannot start over at its beginning and
   * grows. So once it holds {@link CATCH_UP_CHECKPOINTS} × walAutocheckpoint pages, a second
   * PASSIVE runs with writes held back (they find the writer busy and queue for it, in order) and
   * copies just those pages: the WAL restarts, and stays within that many pages. That catch-up
   * costs about what the bulk does (2-9 ms, mostly its fsyncs), hence not after every bulk.
   */
  #afterWrite(writes = 1): void {
    const due = (this.#writesUnchecked += writes) >= this.#settings.walAutocheckpoint;
    if (this.#inlineCheckpointQueued) {
      if (due) this.#inlineWritesHeld = true;
      return;
    }
    if (!due) return;
    this.#inlineCheckpointQueued = true;
    this.#writesUnchecked = 0;
    this.#checkpointForInline(true);
  }

  /** One step of {@link #afterWrite}: `alongside`, the bulk with inline writes going on; else the catch-up with them held back. */
  #checkpointForInline(alongside: boolean): void {
    const { pj, promise } = this.#pending({ kind: "checkpoint", mode: "PASSIVE", quiet: true }, Deadline.NONE, this.#acquireTimeout);
    pj.alongsideInline = alongside;
    this.#writer.submit(pj);
    promise.then(
      (value) => {
        this.#inlineWritesHeld = false;
        const done = value as CheckpointResult | null;
        if (alongside && this.#writesUnchecked === 0) this.#walRestartPending = true;
        else if (alongside && done !== null && done.log >= CATCH_UP_CHECKPOINTS * this.#settings.walAutocheckpoint && !this.#closed) {
          this.#checkpointForInline(false);
          return;
        }
        this.#inlineCheckpointQueued = false;
      },
      (err: HoldfastError) => {
        // The next inline write asks again; the writer's scheduled checkpoint keeps the WAL bounded meanwhile.
        this.#inlineCheckpointQueued = false;
        this.#inlineWritesHeld = false;
        this.#log.warn(
          { event: "db.checkpoint.failed", path: this.path, err: err.message },
          `Checkpoint of ${this.path} after inline writes failed: ${err.message}`,
        );
      },
    );
  }

  /** All rows. */
  query<T = Row>(statement: SqlStatement | string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.#read("all", toStatement(statement, params)) as Promise<T[]>;
  }

  /** The first row, or undefined. */
  get<T = Row>(statement: SqlStatement | string, params?: readonly SqlValue[]): Promise<T | undefined> {
    return this.#read("get", toStatement(statement, params)) as Promise<T | undefined>;
  }

  /** A write on the writer thread (grouped with other queued writes). */
  run(statement: SqlStatement | string, params?: readonly SqlValue[]): Promise<RunResult> {
    const s = toStatement(statement, params);
    return this.#write({ kind: "stmt", mode: "run", stmt: { text: s.text, values: s.values } }) as Promise<RunResult>;
  }

  /** Runs the statements atomically (all or none). */
  async batch(statements: readonly SqlStatement[]): Promise<RunResult[]> {
    if (statements.length === 0) return [];
    return (await this.#write({ kind: "batch", stmts: statements.map((s) => ({ text: s.text, values: s.values })) })) as RunResult[];
  }

  /**
   * Runs `fn` in a write transaction: BEGIN IMMEDIATE on the writer thread (so a read-then-write
   * never hits SQLITE_BUSY half-way), every `tx` statement on the writer, COMMIT when `fn`
   * resolves, ROLLBACK when it throws — or when it outlives its deadline, so no lock is held forever.
   */
  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const owner = {};
    const deadline = this.#admit("the SQLite transaction");
    const begin = this.#pending({ kind: "begin" }, deadline, this.#acquireTimeout, true);
    begin.pj.owner = owner;
    begin.pj.ctx = currentContext();
    if (this.#writer.isOwner(this.#txScope.getStore())) {
      throw errors.dbQueryFailed(
        "db.transaction() was called inside another db.transaction() on the same database; use the outer `tx` (SQLite has one writer).",
      );
    }
    this.#writer.submit(begin.pj);
    await begin.promise;

    return runTransaction(
      {
        path: this.path,
        writer: this.#writer,
        transactionTimeout: this.#transactionTimeout,
        log: this.#log,
        pending: (spec, d, limit) => this.#pending(spec, d, limit),
        onLeak: () => this.#leaks++,
      },
      owner,
      deadline,
      (tx) => this.#txScope.run(owner, () => fn(tx)),
    );
  }

  /** Pool figures for the reader and writer threads, and SQLite health. */
  status(): DatabaseStatus {
    const threads = this.#readers.threads.length + 1;
    const busy = this.#readers.busy + ((this.#writer.thread?.inflight ?? 0) > 0 || this.#writer.owned ? 1 : 0);
    const pool = threadPoolStatus(this.#readStats, this.#writeStats, {
      threads,
      busy,
      waiting: this.#readers.waiting + this.#writer.waiting,
      creates: this.#creates,
      createErrors: this.#createErrors,
      destroys: this.#destroys,
      leaks: this.#leaks,
    });
    const sqlite: SqliteStatus = {
      path: this.path,
      journalMode: this.#journalMode,
      walBytes: walBytes(this.path),
      lastCheckpoint: this.#lastCheckpoint && {
        at: this.#lastCheckpoint.at,
        busy: this.#lastCheckpoint.busy,
        log: this.#lastCheckpoint.log,
        checkpointed: this.#lastCheckpoint.checkpointed,
      },
      lockWaits: this.#lockWaits,
      lockTimeouts: this.#lockTimeouts,
      lockShed: this.#writer.lockShed,
      writeQueue: this.#writer.waiting,
      reads: { ...this.#profiles.counts, inlineStatements: this.#profiles.inlineStatements },
      writes: { ...this.#writeProfiles.counts, inlineStatements: this.#writeProfiles.inlineStatements },
    };
    return { dialect: "sqlite", url: `sqlite:${this.path}`, pool, sqlite };
  }

  /** Runs a checkpoint now on the writer thread (TRUNCATE resets the WAL to zero bytes when no reader holds it). */
  async checkpoint(mode: "PASSIVE" | "FULL" | "RESTART" | "TRUNCATE" = "PASSIVE"): Promise<CheckpointResult | null> {
    return (await this.#write({ kind: "checkpoint", mode })) as CheckpointResult | null;
  }

  /** Runs PRAGMA optimize now on the writer thread. */
  async optimize(): Promise<void> {
    await this.#write({ kind: "optimize" });
  }

  /** Waits (up to 5 s) for queued and running statements, then closes every thread. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const until = performance.now() + 5000;
    while (performance.now() < until && (this.#readers.waiting > 0 || this.#writer.waiting > 0 || this.#writer.owned || this.#inflight() > 0)) {
      await new Promise((r) => setTimeout(r, 5));
    }
    clearInterval(this.#expiry);
    this.#closeInline();
    const closed = () => sqliteClosedError(`The SQLite database ${this.path} was closed before this statement could run.`);
    this.#readers.failQueued(closed);
    this.#writer.failQueued(closed);
    await Promise.all([this.#writer.thread, ...this.#readers.threads].map((t) => t?.close()));
  }

  #closeInline(): void {
    this.#unwatchGc?.();
    this.#unwatchGc = undefined;
    const inline = this.#inline;
    this.#inline = undefined;
    inline?.close();
  }

  #inflight(): number {
    return this.#readers.threads.reduce((n, t) => n + t.inflight, this.#writer.thread?.inflight ?? 0);
  }
}
