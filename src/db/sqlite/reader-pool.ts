/**
 * Reads on N reader threads. In WAL mode a reader never waits for the writer, so reads keep
 * completing while another process holds the write lock. Dispatch goes to the least-busy thread;
 * when every thread has its quota of batches in flight, reads wait in one FIFO (bounded in length
 * → POOL_QUEUE_FULL, and in time by min(acquireTimeout, request deadline) → POOL_TIMEOUT).
 */
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
}

/** The reader threads and their queue. */
export class ReaderPool {
  readonly threads: SqliteThread[] = [];
  readonly stats: LaneStats;
  readonly #options: ReaderPoolOptions;
  readonly #queue: JobQueue;

  constructor(options: ReaderPoolOptions, stats: LaneStats) {
    this.#options = options;
    this.stats = stats;
    this.#queue = new JobQueue((pj, waited) => {
      this.stats.timeouts++;
      pj.reject(readerTimeoutError(options.path, waited, this.#drain()));
    });
  }

  /** The queue ahead of a retry, the threads draining it and a read's typical run time: for Retry-After. */
  #drain(): DrainRate {
    return { queued: this.#queue.length, servers: this.threads.length, holdMs: this.stats.usage.typicalMs };
  }

  /** Reads waiting for a thread. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** Threads with work in flight. */
  get busy(): number {
    let n = 0;
    for (const t of this.threads) if (t.inflight > 0) n++;
    return n;
  }

  /** Queues a read and dispatches what can go now. */
  submit(pj: PendingJob): void {
    if (this.#queue.length >= this.#options.maxWaiting) {
      pj.settled = true;
      this.stats.queueFull++;
      pj.reject(laneQueueFullError("reads", this.#options.path, this.#options.maxWaiting, this.#drain()));
      return;
    }
    this.#queue.push(pj);
    this.pump();
  }

  /** Sends queued reads to the least-busy threads that can take more. */
  pump(): void {
    while (this.#queue.length > 0) {
      let best: SqliteThread | undefined;
      for (const t of this.threads) {
        if (t.batches >= this.#options.batchesPerThread) continue;
        if (!best || t.inflight < best.inflight) best = t;
      }
      if (!best) return;
      const now = performance.now();
      const take: PendingJob[] = [];
      // Share the queue between the free threads so one thread does not take everything.
      const share = Math.max(1, Math.min(this.#options.jobsPerMessage, Math.ceil(this.#queue.length / Math.max(1, this.threads.length))));
      while (take.length < share) {
        const pj = this.#queue.shift();
        if (!pj) break;
        this.stats.acquireWait.record(now - pj.queuedAt);
        take.push(pj);
      }
      if (take.length === 0) return;
      best.send(take, false, false);
    }
  }

  /** Fails every queued read (close). */
  failQueued(err: () => Error): void {
    this.#queue.failAll(err);
  }
}
