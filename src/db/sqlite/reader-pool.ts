/**
 * Reads on N reader threads. In WAL mode a reader never waits for the writer, so reads keep
 * completing while another process holds the write lock. Dispatch goes to the least-busy thread;
 * when every thread has its quota of batches in flight, reads wait (bounded in length →
 * POOL_QUEUE_FULL, and in time by min(acquireTimeout, request deadline) → POOL_TIMEOUT).
 *
 * Two FIFOs, because a thread runs a batch to its end before it answers: a point read queued
 * behind a few table scans would wait for all of them (measured on the notes demo at 4× load:
 * point reads 80 ms at the median behind 8 ms scans). Reads whose statement is known to be long
 * (StatementProfile.long) go one per message; short reads go together. A free thread takes the short
 * reads and the next long one in turns, so a short read waits for at most one long read and a
 * long read is never starved by a stream of short ones.
 */
import { performance } from "node:perf_hooks";
import type { DrainRate } from "../retry-after.js";
import { JobQueue } from "./job-queue.js";
import { laneQueueFullError, readerTimeoutError } from "./sqlite-errors.js";
import type { LaneStats } from "./lane-stats.js";
import type { PendingJob, SqliteThread } from "./thread-handle.js";

/** Reader pool settings. */
export interface ReaderPoolOptions {
  /** Most reads queued before failing fast. */
  maxWaiting: number;
  /** Message batches a thread may have in flight. 1 measured best on 2 cores (larger batches, less CPU per read than 2 or 3). */
  batchesPerThread: number;
  /** Most jobs in one message. */
  jobsPerMessage: number;
  path: string;
  /**
   * Runs a queued read on the main thread now if its statement runs inline again, settling it;
   * false leaves it queued. Asked when a thread answers, and only after a promotion since the last ask.
   */
  runInline?: ((pj: PendingJob) => boolean) | undefined;
  /** Promotions so far (InlineProfiles.promotions): the queue is looked through only when it moved. */
  promotions?: (() => number) | undefined;
}

/** The reader threads and their queue. */
export class ReaderPool {
  readonly threads: SqliteThread[] = [];
  readonly stats: LaneStats;
  readonly #options: ReaderPoolOptions;
  /** Reads not known to be long, sent together. */
  readonly #short: JobQueue;
  /** Reads of statements known to be long, sent one per message. */
  readonly #long: JobQueue;
  /** The next dispatch takes a long read if one waits (turns with the short reads). */
  #longTurn = false;
  /** {@link ReaderPoolOptions.promotions} when the queue was last looked through. */
  #promotionsSeen = 0;

  constructor(options: ReaderPoolOptions, stats: LaneStats) {
    this.#options = options;
    this.stats = stats;
    const expire = (pj: PendingJob, waited: number) => {
      this.stats.timeouts++;
      pj.reject(readerTimeoutError(options.path, waited, this.#drain()));
    };
    this.#short = new JobQueue(expire);
    this.#long = new JobQueue(expire);
  }

  /** The queue ahead of a retry, the threads draining it and a read's typical run time: for Retry-After. */
  #drain(): DrainRate {
    return { queued: this.waiting, servers: this.threads.length, holdMs: this.stats.usage.typicalMs };
  }

  /** Reads waiting for a thread. */
  get waiting(): number {
    return this.#short.length + this.#long.length;
  }

  /** Threads with work in flight. */
  get busy(): number {
    let n = 0;
    for (const t of this.threads) if (t.inflight > 0) n++;
    return n;
  }

  /** Queues a read and dispatches what can go now. */
  submit(pj: PendingJob): void {
    if (this.waiting >= this.#options.maxWaiting) {
      pj.settled = true;
      this.stats.queueFull++;
      pj.reject(laneQueueFullError("reads", this.#options.path, this.#options.maxWaiting, this.#drain()));
      return;
    }
    (pj.profile?.long ? this.#long : this.#short).push(pj);
    this.pump();
  }

  /**
   * Sends queued reads to the least-busy threads that can take more. `answered`: a thread just
   * answered, and a statement it ran may have been promoted: its queued reads run inline first.
   * Without this, a demoted statement's calls kept going to the threads for a second round trip
   * after its proof (bench:sqlite: 60-70 calls per demotion, the loop idle while they waited).
   */
  pump(answered = false): void {
    if (answered && this.waiting > 0) this.#runPromoted();
    while (this.waiting > 0) {
      let best: SqliteThread | undefined;
      for (const t of this.threads) {
        if (t.batches >= this.#options.batchesPerThread) continue;
        if (!best || t.inflight < best.inflight) best = t;
      }
      if (!best) return;
      const now = performance.now();
      const take: PendingJob[] = [];
      const longNow = this.#long.length > 0 && (this.#longTurn || this.#short.length === 0);
      if (longNow) {
        const pj = this.#long.shift();
        if (pj) take.push(pj);
      } else {
        // Share the queue between the free threads so one thread does not take everything.
        const share = Math.max(1, Math.min(this.#options.jobsPerMessage, Math.ceil(this.#short.length / Math.max(1, this.threads.length))));
        while (take.length < share) {
          const pj = this.#short.shift();
          if (!pj) break;
          take.push(pj);
        }
      }
      this.#longTurn = !longNow;
      if (take.length === 0) continue; // only settled jobs were left in that queue; shift() dropped them
      for (const pj of take) this.stats.acquireWait.record(now - pj.queuedAt);
      best.send(take, false, false);
    }
  }

  /** Runs inline the queued short reads whose statement was promoted since the last look. */
  #runPromoted(): void {
    const { runInline, promotions } = this.#options;
    if (runInline === undefined || promotions === undefined) return;
    const now = promotions();
    if (now === this.#promotionsSeen) return;
    this.#promotionsSeen = now;
    // A job run inline is settled; the queue steps over settled jobs.
    this.#short.forEach((pj) => {
      if (runInline(pj)) this.stats.acquireWait.record(performance.now() - pj.queuedAt);
    });
  }

  /** Fails every queued read (close). */
  failQueued(err: () => Error): void {
    this.#short.failAll(err);
    this.#long.failAll(err);
  }
}
