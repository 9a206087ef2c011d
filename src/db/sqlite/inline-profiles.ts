/**
 * Which statements may run inline on the main thread: one profile per SQL text, fed with each
 * run's time; one set of profiles for reads and one for writes (db.run()), each with its own
 * threshold and pause. Below, "reads" and "reader threads" stand for either kind and its threads
 * (the writer thread for writes). A statement starts on the threads. Once it has run there `proofRuns` times and
 * the p99 of its last 100 runs is under the threshold (at most one slower run in 100), it may run
 * inline. One inline run over the threshold sends it back to the threads at once, to prove itself
 * again over `proofRuns` runs — or over twice its last proof (up to 4 096) when it did not last
 * `proofRuns` inline runs: it flaps, its cost depends on its parameters, and each flap stalls
 * the loop once. A statement that lasted longer starts again from `proofRuns`: on a busy machine
 * the OS preempts the main thread now and then, so a 5 µs query sometimes measures 0.2–5 ms
 * (bench:sqlite at load 10 on 2 cores: about 1 run in 1 500, none overlapping a GC), and such
 * noise must not ratchet a fast statement off the main thread for good. One that lasted
 * {@link LONG_STREAK} inline runs needs only `proofRuns` / 32 (one run by default): its record
 * outweighs one slow run, and while it is off the main thread every call of it waits for a thread
 * round trip (bench:sqlite, 64 clients of one statement: 60-70 calls threaded per demotion, the
 * loop idle meanwhile). It still leaves at once; it only comes back sooner.
 *
 * Slow inline runs that come often are not about one statement: the machine is short of cores, so
 * an inline read also waits for SQLite's per-process file mutexes held by a SQLite thread that is
 * itself waiting for a core (seen as voluntary context switches inside inline runs). Then every
 * read goes to the threads for a while: 10 demotions within 1 s, and within 1 000 inline runs (a slow
 * run in every 100 or more), pause inline reads for 1 s, doubling up to 8 s while it keeps happening.
 * Both bounds, because the preemption noise above is a rate per run: at 90 000 inline reads a second,
 * one slow run in 1 500 is 60 demotions a second, and a pause on time alone (bench:sqlite: two pauses
 * in a 4 s phase) sent most reads to the threads for nothing — a preempted run stalls the loop just
 * the same wherever the read would have run.
 */

import { performance } from "node:perf_hooks";
import type { SqliteRouteCounts } from "../types.js";

/** Inline-read policy settings. */
export interface InlineProfileOptions {
  /** A run at or under this many microseconds counts as fast; 0 turns inline reads off. */
  thresholdUs: number;
  /** Threaded runs (with p99 under the threshold) before a statement first runs inline. */
  proofRuns: number;
  /** Most statement texts profiled; past it new texts stay on the threads (dynamic SQL). */
  maxStatements: number;
  /** Clock in ms (performance.now); injected by tests. */
  now?: (() => number) | undefined;
}

/** Inline runs after which a demoted statement proves itself over proofRuns / 32 runs (see the file header). */
const LONG_STREAK = 1000;
/** Longest proof asked of a statement after repeated demotions. */
const MAX_PROOF_RUNS = 4096;
/** Demotions within {@link PAUSE_WINDOW_MS} that pause every inline read. */
const PAUSE_AFTER_DEMOTIONS = 10;
const PAUSE_WINDOW_MS = 1000;
/** …and within this many inline runs (at least one slow run in 100). */
const PAUSE_WINDOW_RUNS = 1000;
const FIRST_PAUSE_MS = 1000;
const MAX_PAUSE_MS = 8000;
/** Threaded runs the p99 is taken over. */
const WINDOW = 100;
/** A statement whose recent threaded runs average over this many µs is a long read (see {@link StatementProfile.long}). */
const LONG_READ_US = 1000;

/** What is known about one SQL text. */
export class StatementProfile {
  readonly text: string;
  /** Runs inline now. */
  inline = false;
  /** Never inline: a read that writes or returns no rows (found when preparing it inline). */
  never = false;
  /** Threaded runs since the last demotion (or since first seen). */
  runs = 0;
  /** The last {@link WINDOW} threaded runs: 1 where a run was over the threshold. */
  readonly slowRing = new Uint8Array(WINDOW);
  /** Runs over the threshold in the ring. */
  slowInWindow = 0;
  /** Threaded runs needed before running inline. */
  proofNeeded: number;
  /** Inline runs since the last promotion. */
  inlineRuns = 0;
  /** The statement prepared on the main thread's connection, once promoted. */
  prepared: unknown;
  /** A read's BLOB check for its rows, made from its prepared statement's column names (inline-connection.ts plainBytesOf). */
  plainBytes: ((row: Record<string, unknown>) => void) | undefined;
  /** The sequence number of its last demotion (0: never demoted). */
  demotedSeq = 0;
  /** Moving average of its threaded run times in µs (0 before the first run). */
  averageUs = 0;

  constructor(text: string, proofRuns: number) {
    this.text = text;
    this.proofNeeded = proofRuns;
  }

  /**
   * Its runs take milliseconds (a scan, a report): the reader pool sends it alone so the short
   * reads queued behind it do not wait for it and for every other long read queued with it.
   */
  get long(): boolean {
    return this.averageUs > LONG_READ_US;
  }
}

/** Counts shown in status() (its `inlineStatements` is computed when asked). */
export type RouteCounts = Omit<SqliteRouteCounts, "inlineStatements">;

/** A slow inline run, kept briefly in case a garbage collection explains it. */
interface SlowRun {
  p: StatementProfile;
  /** performance.now() at its start and end. */
  start: number;
  end: number;
  micros: number;
  /** Milliseconds of garbage collection seen inside it so far. */
  gcMs: number;
  /** The demotion it caused (its sequence number) and the proof asked of the statement before. */
  seq: number;
  proofBefore: number;
}

/** Slow runs kept waiting for GC reports; GC entries arrive within a turn or two of the run. */
const MAX_SLOW_RUNS = 32;
const SLOW_RUN_TTL_MS = 1000;

/** The profiles of every statement read through one database. */
export class InlineProfiles {
  readonly #options: InlineProfileOptions;
  readonly #profiles = new Map<string, StatementProfile>();
  /** Statements promoted to inline so far, GC-explained demotions undone included (reads queued for a thread may run inline once this moves). */
  promotions = 0;
  readonly counts: RouteCounts = { inline: 0, threaded: 0, demotions: 0, busyFallbacks: 0, pauses: 0, gcRestored: 0 };
  readonly #now: () => number;
  /** When the last PAUSE_AFTER_DEMOTIONS demotions happened (a ring). */
  readonly #demotedAt = new Float64Array(PAUSE_AFTER_DEMOTIONS);
  /** Inline runs so far at each of those demotions (the same ring). */
  readonly #demotedAtRun = new Float64Array(PAUSE_AFTER_DEMOTIONS);
  /** Each of those demotions' sequence number (the same ring). */
  readonly #demotedSeq = new Float64Array(PAUSE_AFTER_DEMOTIONS);
  /** Demotions so far, including undone ones: the ring's clock. */
  #demotionSeq = 0;
  /** The demotion that started the current pause. */
  #pausedBy = 0;
  /** Recent slow inline runs, oldest first. */
  #slowRuns: SlowRun[] = [];
  /** Every inline run, fast or slow. */
  #inlineRunsTotal = 0;
  #pausedUntil = 0;
  #pauseMs = FIRST_PAUSE_MS;
  #lastPauseEnd = Number.NEGATIVE_INFINITY;

  constructor(options: InlineProfileOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
    this.#demotedAt.fill(Number.NEGATIVE_INFINITY);
  }

  /** False while inline reads are paused for every statement; no clock read when they are not. */
  get inlineAllowed(): boolean {
    if (this.#pausedUntil === 0) return true;
    if (this.#now() < this.#pausedUntil) return false;
    this.#pausedUntil = 0;
    return true;
  }

  /** Inline reads are on at all. */
  get enabled(): boolean {
    return this.#options.thresholdUs > 0;
  }

  /** The profile of `text`, created on first sight; undefined past `maxStatements` texts. */
  profile(text: string): StatementProfile | undefined {
    let p = this.#profiles.get(text);
    if (p === undefined && this.#profiles.size < this.#options.maxStatements) {
      p = new StatementProfile(text, this.#options.proofRuns);
      this.#profiles.set(text, p);
    }
    return p;
  }

  /** Records a run on a reader thread (its time measured on that thread). */
  threadedRun(p: StatementProfile, micros: number): void {
    // A quarter per run: two or three runs tell a scan from a point read, one preempted run does not.
    p.averageUs = p.averageUs === 0 ? micros : p.averageUs + (micros - p.averageUs) * 0.25;
    if (p.inline || p.never) return;
    const slot = p.runs % WINDOW;
    const slow = micros > this.#options.thresholdUs ? 1 : 0;
    p.slowInWindow += slow - (p.slowRing[slot] as number);
    p.slowRing[slot] = slow;
    p.runs++;
    // p99 under the threshold: no slow run in fewer than 100, at most one in the last 100.
    if (p.runs >= p.proofNeeded && p.slowInWindow <= Math.floor(Math.min(p.runs, WINDOW) / 100)) {
      p.inline = true;
      p.inlineRuns = 0;
      this.promotions++;
    }
  }

  /**
   * Records a run inline that ended at `end` (performance.now()); returns true when it was slow and
   * the statement has just been demoted. The run is remembered for a second: if a garbage collection
   * turns out to have made it slow ({@link gcPause}), the demotion is undone.
   */
  inlineRun(p: StatementProfile, micros: number, end = this.#now()): boolean {
    p.inlineRuns++;
    this.#inlineRunsTotal++;
    if (micros <= this.#options.thresholdUs) return false;
    const proofBefore = p.proofNeeded;
    this.demote(p);
    if (this.#slowRuns.length >= MAX_SLOW_RUNS) this.#slowRuns.shift();
    this.#slowRuns.push({ p, start: end - micros / 1000, end, micros, gcMs: 0, seq: this.#demotionSeq, proofBefore });
    return true;
  }

  /**
   * A garbage collection paused the main thread from `start` for `durationMs` (performance.now()
   * time base; from a PerformanceObserver, which reports it a turn or two later). A demotion whose
   * run is under the threshold once the collection's time inside it is taken out is undone: the
   * collection was triggered by the statement's own row objects more often than not (page reads:
   * 248 of 300 000 inline runs demoted, the slow ones 300 µs at the median against 230 µs for a
   * scavenge), and it would have paused the loop wherever the read ran; sending the statement to the
   * threads for its next 32+ runs only added round trips. The statement is restored only if nothing
   * changed it since (not re-promoted, not demoted again).
   */
  gcPause(start: number, durationMs: number): void {
    const runs = this.#slowRuns;
    if (runs.length === 0) return;
    const end = start + durationMs;
    const now = this.#now();
    let kept = 0;
    for (let i = 0; i < runs.length; i++) {
      const r = runs[i] as SlowRun;
      const overlap = Math.min(r.end, end) - Math.max(r.start, start);
      if (overlap > 0) r.gcMs += overlap;
      if (r.micros - r.gcMs * 1000 <= this.#options.thresholdUs) {
        this.#restore(r);
        continue;
      }
      if (now - r.end < SLOW_RUN_TTL_MS) runs[kept++] = r;
    }
    runs.length = kept;
  }

  #restore(r: SlowRun): void {
    const p = r.p;
    if (p.inline || p.demotedSeq !== r.seq) return;
    p.inline = true;
    p.proofNeeded = r.proofBefore;
    // A promotion too: its calls queued for a thread meanwhile may run inline (ReaderPool).
    this.promotions++;
    this.counts.gcRestored++;
    // It no longer counts toward a pause, and a pause it started is lifted when the rest are too few.
    for (let i = 0; i < PAUSE_AFTER_DEMOTIONS; i++) if (this.#demotedSeq[i] === r.seq) this.#demotedAt[i] = Number.NEGATIVE_INFINITY;
    if (this.#pausedUntil !== 0 && r.seq <= this.#pausedBy && r.seq > this.#pausedBy - PAUSE_AFTER_DEMOTIONS) this.#pausedUntil = 0;
  }

  /** PAUSE_AFTER_DEMOTIONS demotions (not undone) within PAUSE_WINDOW_MS and PAUSE_WINDOW_RUNS inline runs. */
  #tooManyDemotions(now: number): boolean {
    let n = 0;
    for (let i = 0; i < PAUSE_AFTER_DEMOTIONS; i++) {
      if (now - (this.#demotedAt[i] as number) < PAUSE_WINDOW_MS && this.#inlineRunsTotal - (this.#demotedAtRun[i] as number) < PAUSE_WINDOW_RUNS) n++;
    }
    return n >= PAUSE_AFTER_DEMOTIONS;
  }

  /** Sends a statement back to the threads until it proves fast again (how long: see the file header). */
  demote(p: StatementProfile): void {
    p.inline = false;
    p.runs = 0;
    p.slowRing.fill(0);
    p.slowInWindow = 0;
    const base = this.#options.proofRuns;
    // Flapping doubles, from no less than proofRuns (a flap after a short proof gets the full one).
    if (p.inlineRuns < base) p.proofNeeded = Math.min(MAX_PROOF_RUNS, Math.max(base, p.proofNeeded * 2));
    else p.proofNeeded = p.inlineRuns >= LONG_STREAK ? Math.max(1, Math.ceil(base / 32)) : base;
    this.counts.demotions++;
    const seq = ++this.#demotionSeq;
    p.demotedSeq = seq;
    const now = this.#now();
    // The ring holds the last PAUSE_AFTER_DEMOTIONS demotions, this one included.
    const slot = seq % PAUSE_AFTER_DEMOTIONS;
    this.#demotedAt[slot] = now;
    this.#demotedAtRun[slot] = this.#inlineRunsTotal;
    this.#demotedSeq[slot] = seq;
    if (this.#pausedUntil === 0 && this.#tooManyDemotions(now)) {
      // Tripped again soon after the last pause ended: pause longer.
      this.#pauseMs = now - this.#lastPauseEnd < PAUSE_WINDOW_MS * 2 ? Math.min(MAX_PAUSE_MS, this.#pauseMs * 2) : FIRST_PAUSE_MS;
      this.#pausedUntil = now + this.#pauseMs;
      this.#lastPauseEnd = this.#pausedUntil;
      this.#pausedBy = seq;
      this.counts.pauses++;
    }
  }

  /** Statements running inline now. */
  get inlineStatements(): number {
    let n = 0;
    for (const p of this.#profiles.values()) if (p.inline) n++;
    return n;
  }
}
