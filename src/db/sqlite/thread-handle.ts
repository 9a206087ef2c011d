/**
 * The main thread's side of one SQLite thread: sends jobs in batches (one postMessage for many
 * jobs, so the message cost is shared under load), matches results to their callers, and fails
 * every job in flight with DB_UNAVAILABLE if the thread dies.
 */
import type { Worker } from "node:worker_threads";
import type { Deadline } from "../../context/index.js";
import { errors, fromSerialized, type HoldfastError } from "../../errors/index.js";
import type { FromThread, Job, JobResult, ThreadConfig } from "./protocol.js";
import { spawnSqliteThread } from "./spawn-thread.js";

/** Distributes Job without its id and deadline (set at dispatch). */
type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;
/** A job as a caller describes it. */
export type JobSpec = DistributiveOmit<Job, "id" | "deadline">;

/** A job waiting for, or running on, a thread. */
export interface PendingJob {
  spec: JobSpec;
  /** The caller's request deadline (Deadline.NONE outside requests). */
  deadline: Deadline;
  /** Most the thread may wait for a lock, in ms (capped again by `deadline` at dispatch). */
  lockBudgetMs: number;
  /** performance.now() when queued, and when the queue wait must end. */
  queuedAt: number;
  queueLimitAt: number;
  sentAt: number;
  settled: boolean;
  /** The transaction a BEGIN belongs to (the writer is owned by it once BEGIN succeeds). */
  owner?: object | undefined;
  resolve(value: unknown): void;
  reject(err: HoldfastError): void;
}

/** What a thread reports to its owner. */
export interface ThreadHooks {
  /** A job finished; return true to take over the result (re-routing), false to settle it normally. */
  onResult(pj: PendingJob, result: JobResult): boolean;
  /** A message batch finished: the thread can take more. */
  onIdle(): void;
  /** Lock waits, checkpoints, logs. */
  onEvent(m: FromThread): void;
  /** The thread died unexpectedly. */
  onExit(err: HoldfastError): void;
}

let nextId = 1;

/** One SQLite thread seen from the main thread. */
export class SqliteThread {
  readonly role: "writer" | "reader";
  readonly #worker: Worker;
  readonly #hooks: ThreadHooks;
  readonly #inflight = new Map<number, PendingJob>();
  #batches = 0;
  #closing = false;
  #exited: Promise<void>;
  /** Resolves when the connection is open and configured; rejects with the open error (DB_CORRUPT, …). */
  readonly ready: Promise<void>;

  constructor(config: ThreadConfig, hooks: ThreadHooks) {
    this.role = config.role;
    this.#hooks = hooks;
    this.#worker = spawnSqliteThread(config);
    let readyResolve!: () => void;
    let readyReject!: (e: HoldfastError) => void;
    this.ready = new Promise<void>((res, rej) => {
      readyResolve = res;
      readyReject = rej;
    });
    this.ready.catch(() => {});
    let opened = false;
    this.#worker.on("message", (m: FromThread) => {
      switch (m.type) {
        case "ready":
          opened = true;
          readyResolve();
          return;
        case "open-failed":
          readyReject(fromSerialized(m.error));
          return;
        case "results":
          for (const r of m.results) this.#settle(r);
          if (m.done) {
            this.#batches--;
            this.#hooks.onIdle();
          }
          return;
        default:
          this.#hooks.onEvent(m);
      }
    });
    this.#exited = new Promise<void>((res) => {
      const fail = (why: string) => {
        const err = errors.dbUnavailable(`The SQLite ${this.role} thread ${why}. Jobs it was running failed; holdfast starts a new thread for the next ones.`, {
          details: { path: config.path, role: this.role },
        });
        if (!opened) readyReject(err);
        for (const pj of this.#inflight.values()) this.#fail(pj, err);
        this.#inflight.clear();
        this.#batches = 0;
        if (!this.#closing && opened) this.#hooks.onExit(err);
      };
      this.#worker.on("error", (e) => fail(`crashed: ${e.message}`));
      this.#worker.on("exit", (code) => {
        if (!this.#closing || this.#inflight.size > 0) fail(`exited (code ${code})`);
        res();
      });
    });
  }

  /** Message batches sent and not yet answered. */
  get batches(): number {
    return this.#batches;
  }

  /** Jobs sent and not yet answered. */
  get inflight(): number {
    return this.#inflight.size;
  }

  /** Sends jobs as one message. `group` asks the writer for group commit. */
  send(pjs: PendingJob[], group: boolean, inTransaction: boolean): void {
    const now = performance.now();
    const epoch = Date.now();
    const jobs: Job[] = [];
    for (const pj of pjs) {
      const id = nextId++;
      const left = Math.min(pj.lockBudgetMs, pj.deadline.remaining());
      // The spec becomes the wire job in place: one object per statement, no copy on the hot path.
      const job = pj.spec as Job;
      job.id = id;
      job.deadline = Number.isFinite(left) ? epoch + Math.max(1, left) : 0;
      pj.sentAt = now;
      this.#inflight.set(id, pj);
      jobs.push(job);
    }
    this.#batches++;
    this.#worker.postMessage({ type: "jobs", jobs, group, inTransaction });
  }

  #settle(r: JobResult): void {
    const pj = this.#inflight.get(r.id);
    if (!pj) return;
    this.#inflight.delete(r.id);
    if (pj.settled) return;
    if (this.#hooks.onResult(pj, r)) return;
    pj.settled = true;
    if (r.ok) pj.resolve(r.value);
    else pj.reject(fromSerialized(r.error));
  }

  #fail(pj: PendingJob, err: HoldfastError): void {
    if (pj.settled) return;
    pj.settled = true;
    pj.reject(err);
  }

  /** Asks the thread to close its connection and waits for it to exit. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#worker.postMessage({ type: "close" });
    const timer = setTimeout(() => void this.#worker.terminate(), 10_000);
    timer.unref();
    await this.#exited;
    clearTimeout(timer);
  }

  /** Stops the thread at once (open failed). */
  async terminate(): Promise<void> {
    this.#closing = true;
    await this.#worker.terminate();
  }
}
