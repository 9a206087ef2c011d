/**
 * Writes on the one writer thread. Writes queue here (not in SQLite's busy handler), so a
 * process never has two of its own connections fighting for the write lock. When the writer is
 * free, every queued write goes over in one message and runs as one transaction with a
 * SAVEPOINT each (group commit). A transaction owns the writer from BEGIN IMMEDIATE to
 * COMMIT/ROLLBACK; other writes queue meanwhile.
 */
import { performance } from "node:perf_hooks";
import { errors, type HoldfastError } from "../../errors/index.js";
import type { DrainRate } from "../retry-after.js";
import { JobQueue } from "./job-queue.js";
import { laneQueueFullError, lockedBehindError, lockShedError, writerTimeoutError } from "./sqlite-errors.js";
import type { LaneStats } from "./lane-stats.js";
import type { PendingJob, SqliteThread } from "./thread-handle.js";

/** Writer lane settings. */
export interface WriterLaneOptions {
  maxWaiting: number;
  /** Most writes per group commit; 1 turns group commit off. */
  groupMax: number;
  path: string;
  /**
   * Most writes that may wait while another process holds the write lock (queued here plus on the
   * writer thread); past it a write fails at once with DB_LOCKED, so waiting writes stay few.
   */
  lockWaiters: number;
  /** Called for each write failed with DB_LOCKED in the queue (for the `db.locked` log event). */
  onLocked?: ((err: HoldfastError) => void) | undefined;
  /**
   * Runs a queued write on the main thread now if it may (inline writes), settling it; false
   * leaves it queued. Asked for the queue's head when the writer is free.
   */
  runInline?: ((pj: PendingJob) => boolean) | undefined;
}

/** The writer thread, its queue and the transaction that owns it. */
export class WriterLane {
  thread: SqliteThread | undefined;
  readonly stats: LaneStats;
  readonly #options: WriterLaneOptions;
  readonly #queue: JobQueue;
  /** The transaction holding the writer, if any. */
  #owner: object | undefined;
  /** True while the writer thread waits for a lock held by another process. */
  lockWaiting = false;
  lockWaitSince = 0;
  /** Writes failed at once because {@link WriterLaneOptions.lockWaiters} were already waiting for the lock. */
  lockShed = 0;
  /** In pump(): a write submitted meanwhile (by a write run inline there) only queues. */
  #pumping = false;

  constructor(options: WriterLaneOptions, stats: LaneStats) {
    this.#options = options;
    this.stats = stats;
    this.#queue = new JobQueue(
      (pj, waited) => {
        this.stats.timeouts++;
        if (this.lockWaiting) {
          const details = { path: options.path, waitedMs: waited, queued: this.#queue.length };
          const err = lockedBehindError(options.path, waited, Math.round(performance.now() - this.lockWaitSince), details);
          options.onLocked?.(err);
          pj.reject(err);
        } else pj.reject(writerTimeoutError(options.path, waited, this.#owner !== undefined, this.#drain()));
      },
      // While the lock is held elsewhere, a write's whole wait (queue + lock) ends at its bound.
      (pj, now) => this.lockWaiting && pj.waitBoundAt !== undefined && now >= pj.waitBoundAt,
    );
  }

  /** The queue ahead of a retry and a write's typical run time on the one writer: for Retry-After. */
  #drain(): DrainRate {
    return { queued: this.#queue.length, servers: 1, holdMs: this.stats.usage.typicalMs };
  }

  /** Writes waiting for the writer. */
  get waiting(): number {
    return this.#queue.length;
  }

  /**
   * Nothing queued, nothing on the thread but the bulk of a checkpoint for inline writes
   * ({@link PendingJob.alongsideInline}), no transaction holding it, no lock wait: an inline write
   * may run.
   */
  get idle(): boolean {
    const t = this.thread;
    return t !== undefined && t.blocking === 0 && this.#queue.length === 0 && this.#owner === undefined && !this.lockWaiting;
  }

  /** True when a transaction holds the writer. */
  get owned(): boolean {
    return this.#owner !== undefined;
  }

  /** True when `owner` is the transaction holding the writer. */
  isOwner(owner: object | undefined): boolean {
    return owner !== undefined && this.#owner === owner;
  }

  /** Forgets the owning transaction (its writer thread died, taking the transaction with it). */
  resetOwner(): void {
    this.#owner = undefined;
  }

  /** Queues a write (or BEGIN of a transaction, or maintenance) for the writer. */
  submit(pj: PendingJob): void {
    if (this.lockWaiting && pj.waitBoundAt !== undefined) {
      const waiting = this.#queue.length + (this.thread?.inflight ?? 0);
      if (waiting >= this.#options.lockWaiters) {
        pj.settled = true;
        this.lockShed++;
        const lockWaitMs = Math.round(performance.now() - this.lockWaitSince);
        pj.reject(lockShedError(this.#options.path, lockWaitMs, waiting, this.#options.lockWaiters));
        return;
      }
    }
    if (this.#queue.length >= this.#options.maxWaiting) {
      pj.settled = true;
      this.stats.queueFull++;
      pj.reject(laneQueueFullError("writes", this.#options.path, this.#options.maxWaiting, this.#drain()));
      return;
    }
    this.#queue.push(pj);
    // Behind a lock held elsewhere this write will wait, not work: its request gives its slot back.
    if (this.lockWaiting) pj.ctx?.parkAdmission?.();
    // Not run inline from here: a write is submitted when it could not run inline just now.
    this.pump(false);
  }

  /**
   * The writer thread started waiting for a lock held by another process: every write waiting
   * for it (queued here or on the thread) gives its request's admission slot back, so reads keep
   * theirs. At most lockWaiters writes are parked this way; further ones fail at once (submit).
   */
  parkWaiting(): void {
    const park = (pj: PendingJob): void => {
      pj.ctx?.parkAdmission?.();
    };
    this.#queue.forEach(park);
    this.thread?.forEachInflight(park);
  }

  /**
   * Sends the next group when the writer is free and no transaction holds it; first, unless
   * `inline` is false, runs inline what may run inline at the head of the queue.
   */
  pump(inline = true): void {
    const t = this.thread;
    if (!t || this.#owner || t.batches > 0 || this.#pumping) return;
    this.#pumping = true;
    try {
      this.#send(t, inline);
    } finally {
      this.#pumping = false;
    }
  }

  #send(t: SqliteThread, inline: boolean): void {
    // The writer is free: writes queued behind its last round trip (or a transaction) that may run
    // inline run now, in order, so the lane goes idle again. Without this, steady writes kept
    // arriving during each round trip and stayed on the thread for good once one had gone there
    // (bench:sqlite).
    const runInline = this.#options.runInline;
    if (inline && runInline !== undefined && !this.lockWaiting) {
      // A job run inline is settled, and peek() steps over settled jobs.
      for (let pj = this.#queue.peek(); pj !== undefined && runInline(pj); pj = this.#queue.peek()) {
        this.stats.acquireWait.record(performance.now() - pj.queuedAt);
      }
    }
    const head = this.#queue.shift();
    if (!head) return;
    const now = performance.now();
    this.stats.acquireWait.record(now - head.queuedAt);
    if (head.spec.kind !== "stmt" && head.spec.kind !== "batch") {
      t.send([head], false, false);
      return;
    }
    const group = [head];
    while (group.length < this.#options.groupMax) {
      const next = this.#queue.peek();
      if (!next || (next.spec.kind !== "stmt" && next.spec.kind !== "batch")) break;
      this.#queue.shift();
      this.stats.acquireWait.record(now - next.queuedAt);
      group.push(next);
    }
    t.send(group, true, false);
  }

  /** Marks the writer as held by `owner` (called when its BEGIN IMMEDIATE succeeded). */
  own(owner: object): void {
    this.#owner = owner;
  }

  /** Sends a statement of the owning transaction straight to the writer. */
  sendInTransaction(owner: object, pj: PendingJob): void {
    const t = this.thread;
    if (this.#owner !== owner || !t) {
      pj.settled = true;
      pj.reject(
        errors.dbQueryFailed("This transaction has already ended (committed, rolled back, or past its deadline); statements on its `tx` can no longer run."),
      );
      return;
    }
    t.send([pj], false, true);
  }

  /** Releases the writer from `owner` and lets queued writes run. */
  release(owner: object): void {
    if (this.#owner === owner) this.#owner = undefined;
    this.pump();
  }

  /** Fails every queued write (close). */
  failQueued(err: () => Error): void {
    this.#queue.failAll(err);
  }
}
