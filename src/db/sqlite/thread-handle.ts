/**
 * The main thread's side of one SQLite thread: sends jobs in batches (one postMessage for many
 * jobs, so the message cost is shared under load), matches results to their callers, and fails
 * every job in flight with DB_UNAVAILABLE if the thread dies.
 */
import { performance } from "node:perf_hooks";
import type { Worker } from "node:worker_threads";
import type { Deadline, RequestContext } from "../../context/index.js";
import { errors, fromSerialized, type HoldfastError } from "../../errors/index.js";
import { retryAfterSeconds } from "../retry-after.js";
import type { SqlValue } from "../types.js";
import { denseArray, type FromThread, type Job, type JobResult, type PackedStatements, type ThreadConfig } from "./protocol.js";
import type { StatementProfile } from "./inline-profiles.js";
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
  /** Longest a read may run once dispatched, in ms (db.statementTimeout; Infinity = none). */
  statementCapMs: number;
  /** performance.now() when queued, and when the queue wait must end. */
  queuedAt: number;
  queueLimitAt: number;
  /** Writes: performance.now() when the whole wait (queue + lock) must end, min(busyTimeout, deadline) after submission. */
  waitBoundAt?: number | undefined;
  sentAt: number;
  settled: boolean;
  /** The transaction a BEGIN belongs to (the writer is owned by it once BEGIN succeeds). */
  owner?: object | undefined;
  /** The request that made the call, if any: a write waiting for another process's lock parks its admission slot (RequestContext.parkAdmission). */
  ctx?: RequestContext | undefined;
  /** Its statement's profile (inline policy, reads or db.run() writes), fed with its run time on the thread. */
  profile?: StatementProfile | undefined;
  /** A read made inside db.transaction(fn): it stays on the threads even if its statement is promoted while it waits. */
  inTransaction?: boolean | undefined;
  /** Inline writes may run while it is on the thread (the bulk of a checkpoint asked for by inline writes): it does not make the writer busy for them. */
  alongsideInline?: boolean | undefined;
  resolve(value: unknown): void;
  reject(err: HoldfastError): void;
}

/** What a thread reports to its owner. */
export interface ThreadHooks {
  /** A job finished (`result` undefined: it succeeded); return true to take over the result (re-routing), false to settle it normally. */
  onResult(pj: PendingJob, result: JobResult | undefined): boolean;
  /** A statement with a profile ran on the thread for `micros`. */
  onRan(profile: StatementProfile, micros: number): void;
  /** A message batch finished: the thread can take more. */
  onIdle(): void;
  /** Lock waits, checkpoints, logs. */
  onEvent(m: FromThread): void;
  /** The thread died unexpectedly. */
  onExit(err: HoldfastError): void;
}

let nextId = 1;

/** Statement texts numbered once per process, so each thread receives a text only once. */
const statementIds = new Map<string, number>();
/** Past this many distinct texts (dynamic SQL), new texts travel inline every time instead. */
const MAX_STATEMENT_IDS = 2000;

function statementId(text: string): number {
  let sid = statementIds.get(text);
  if (sid === undefined) {
    if (statementIds.size >= MAX_STATEMENT_IDS) return 0;
    sid = statementIds.size + 1;
    statementIds.set(text, sid);
  }
  return sid;
}

/** One SQLite thread seen from the main thread. */
export class SqliteThread {
  readonly role: "writer" | "reader";
  readonly #worker: Worker;
  readonly #hooks: ThreadHooks;
  readonly #inflight = new Map<number, PendingJob>();
  /** Statement ids whose text this thread already has. */
  readonly #known = new Set<number>();
  #batches = 0;
  /** Jobs in flight marked {@link PendingJob.alongsideInline}. */
  #alongside = 0;
  /** When the thread last answered: roughly when it started on what it is running now. */
  #lastAnswerAt = 0;
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
          // An idle database must not keep the process alive (a script that forgot close() still
          // exits); the thread is ref'd again while it has work.
          if (this.#inflight.size === 0 && !this.#closing) this.#worker.unref();
          readyResolve();
          return;
        case "open-failed":
          readyReject(fromSerialized(m.error));
          return;
        case "results":
          this.#lastAnswerAt = performance.now();
          this.#settleAll(m);
          // Not while closing: close() holds the process until the thread has exited, and a read
          // still running when close() began answers before the thread exits (the loop emptied
          // in that gap on a busy machine and close() never resolved).
          if (this.#inflight.size === 0 && opened && !this.#closing) this.#worker.unref();
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
          retryAfter: retryAfterSeconds("connection-lost"),
          details: { path: config.path, role: this.role },
        });
        // A thread that failed to open posts why (DB_CORRUPT, …) on its port, then crashes; the two
        // arrive on different channels in no fixed order. Give the port a moment so its precise
        // error wins over this generic one (readyReject keeps whichever comes first).
        if (!opened) setTimeout(() => readyReject(err), 100);
        for (const pj of this.#inflight.values()) this.#fail(pj, err);
        this.#inflight.clear();
        this.#alongside = 0;
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

  /** Jobs sent and not yet answered that inline writes must wait for (all but {@link PendingJob.alongsideInline} ones). */
  get blocking(): number {
    return this.#inflight.size - this.#alongside;
  }

  /** Calls `fn` for every job sent and not yet answered. */
  forEachInflight(fn: (pj: PendingJob) => void): void {
    for (const pj of this.#inflight.values()) fn(pj);
  }

  /** Sends jobs as one message. `group` asks the writer for group commit. */
  send(pjs: PendingJob[], group: boolean, inTransaction: boolean): void {
    const now = performance.now();
    const epoch = Date.now();
    const n = pjs.length;
    let packable = true;
    for (let i = 0; i < n; i++) if ((pjs[i] as PendingJob).spec.kind !== "stmt") packable = false;
    if (this.#inflight.size === 0) this.#worker.ref();
    const ids: number[] = [];
    const deadlines: number[] = [];
    let bounds: number[] | undefined;
    for (let i = 0; i < n; i++) {
      const pj = pjs[i] as PendingJob;
      const id = nextId++;
      const left = pj.deadline.remaining();
      ids.push(id);
      deadlines.push(Number.isFinite(left) ? epoch + Math.max(1, left) : 0);
      if (pj.waitBoundAt !== undefined) {
        bounds ??= denseArray(n, 0);
        // At least 1 ms: a bound already passed still lets the write try the lock once.
        bounds[i] = epoch + Math.max(1, Math.round(pj.waitBoundAt - now));
      }
      pj.sentAt = now;
      if (pj.alongsideInline) this.#alongside++;
      this.#inflight.set(id, pj);
    }
    this.#batches++;
    if (!packable) {
      const jobs = pjs.map((pj, i) => ({ ...pj.spec, id: ids[i], deadline: deadlines[i], bound: bounds?.[i] ?? 0 }) as Job);
      this.#worker.postMessage({ type: "jobs", jobs, group, inTransaction });
      return;
    }
    let modes = "";
    const sids: number[] = [];
    const texts: (string | null)[] = [];
    const values: (readonly SqlValue[])[] = [];
    for (let i = 0; i < n; i++) {
      const spec = (pjs[i] as PendingJob).spec as Extract<JobSpec, { kind: "stmt" }>;
      modes += spec.mode === "all" ? "a" : spec.mode === "get" ? "g" : "r";
      const sid = statementId(spec.stmt.text);
      sids.push(sid);
      if (sid > 0 && this.#known.has(sid)) texts.push(null);
      else {
        texts.push(spec.stmt.text);
        if (sid > 0) this.#known.add(sid);
      }
      values.push(spec.stmt.values);
    }
    const m: PackedStatements = { type: "packed", ids, modes, sids, texts, values, deadlines, bounds, group, inTransaction };
    this.#worker.postMessage(m);
  }

  #settleAll(m: Extract<FromThread, { type: "results" }>): void {
    const { ids, values, errors: errs, times } = m;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as number;
      const pj = this.#inflight.get(id);
      if (!pj) continue;
      // Every run's time counts, even one whose caller already gave up: a slow run must reset its statement's streak.
      if (times !== undefined && pj.profile !== undefined) this.#hooks.onRan(pj.profile, times[i] as number);
      const e = errs?.[i];
      if (e) {
        this.#settle({ id, ok: false, error: e });
        continue;
      }
      // Fast path for success: no result object per row.
      this.#forget(id, pj);
      if (pj.settled) continue;
      if (this.#hooks.onResult(pj, undefined)) continue;
      pj.settled = true;
      pj.resolve(values[i]);
    }
  }

  #settle(r: JobResult): void {
    const pj = this.#inflight.get(r.id);
    if (!pj) return;
    this.#forget(r.id, pj);
    if (pj.settled) return;
    if (this.#hooks.onResult(pj, r)) return;
    pj.settled = true;
    if (r.ok) pj.resolve(r.value);
    else pj.reject(fromSerialized(r.error));
  }

  /** Drops an answered job from the in-flight table. */
  #forget(id: number, pj: PendingJob): void {
    this.#inflight.delete(id);
    if (pj.alongsideInline) this.#alongside--;
  }

  #fail(pj: PendingJob, err: HoldfastError): void {
    if (pj.settled) return;
    pj.settled = true;
    pj.reject(err);
  }

  /**
   * Frees callers whose request deadline passed while their statement is still on the thread
   * (a slow query): they get DEADLINE_EXCEEDED now; the thread finishes the statement and its
   * result is dropped. Only for reads — a write must report what really happened to it.
   */
  expireInflight(now: number, err: (pj: PendingJob, byStatementTimeout: boolean) => HoldfastError): number {
    let n = 0;
    let head = true;
    for (const pj of this.#inflight.values()) {
      // The thread answers in order, so only the oldest unanswered job can be running; the others
      // wait behind it and must not be charged its run time against db.statementTimeout.
      const running = head;
      head = false;
      if (pj.settled) continue;
      const capped = running && now - Math.max(pj.sentAt, this.#lastAnswerAt) >= pj.statementCapMs;
      if (capped || pj.deadline.at <= now) {
        this.#fail(pj, err(pj, capped && pj.deadline.at > now));
        n++;
      }
    }
    return n;
  }

  /** Asks the thread to close its connection and waits for it to exit. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#worker.ref(); // keep the process alive until the thread has closed its connection
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
