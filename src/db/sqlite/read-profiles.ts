/**
 * Which reads may run inline on the main thread: one profile per SQL text, fed with each run's
 * time. A statement starts on the reader threads. Once it has run there `proofRuns` times and
 * the p99 of its last 100 runs is under the threshold (at most one slower run in 100), it may run
 * inline. One inline run over the threshold sends it back to the threads at once, to prove itself
 * again over `proofRuns` runs — or over twice its last proof (up to 4 096) when it did not last
 * `proofRuns` inline runs: it flaps, its cost depends on its parameters, and each flap stalls
 * the loop once. A statement that lasted longer starts again from `proofRuns`: on a busy machine
 * the OS preempts the main thread now and then, so a 5 µs query sometimes measures 0.2–5 ms
 * (bench:sqlite at load 10 on 2 cores: about 1 run in 1 500, none overlapping a GC), and such
 * noise must not ratchet a fast statement off the main thread for good.
 */

/** Inline-read policy settings. */
export interface ReadProfileOptions {
  /** A run at or under this many microseconds counts as fast; 0 turns inline reads off. */
  thresholdUs: number;
  /** Threaded runs (with p99 under the threshold) before a statement first runs inline. */
  proofRuns: number;
  /** Most statement texts profiled; past it new texts stay on the threads (dynamic SQL). */
  maxStatements: number;
}

/** Longest proof asked of a statement after repeated demotions. */
const MAX_PROOF_RUNS = 4096;
/** Threaded runs the p99 is taken over. */
const WINDOW = 100;

/** What is known about one SQL text. */
export class ReadProfile {
  readonly text: string;
  /** Runs inline now. */
  inline = false;
  /** Never inline: it writes, or does not return rows (found when preparing it inline). */
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

  constructor(text: string, proofRuns: number) {
    this.text = text;
    this.proofNeeded = proofRuns;
  }
}

/** Counts shown in status(). */
export interface ReadRouteCounts {
  inline: number;
  threaded: number;
  demotions: number;
  busyFallbacks: number;
}

/** The profiles of every statement read through one database. */
export class ReadProfiles {
  readonly #options: ReadProfileOptions;
  readonly #profiles = new Map<string, ReadProfile>();
  readonly counts: ReadRouteCounts = { inline: 0, threaded: 0, demotions: 0, busyFallbacks: 0 };

  constructor(options: ReadProfileOptions) {
    this.#options = options;
  }

  /** Inline reads are on at all. */
  get enabled(): boolean {
    return this.#options.thresholdUs > 0;
  }

  /** The profile of `text`, created on first sight; undefined past `maxStatements` texts. */
  profile(text: string): ReadProfile | undefined {
    let p = this.#profiles.get(text);
    if (p === undefined && this.#profiles.size < this.#options.maxStatements) {
      p = new ReadProfile(text, this.#options.proofRuns);
      this.#profiles.set(text, p);
    }
    return p;
  }

  /** Records a run on a reader thread (its time measured on that thread). */
  threadedRun(p: ReadProfile, micros: number): void {
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
    }
  }

  /** Records a run inline; returns true when it was slow and the statement has just been demoted. */
  inlineRun(p: ReadProfile, micros: number): boolean {
    p.inlineRuns++;
    if (micros <= this.#options.thresholdUs) return false;
    this.demote(p);
    return true;
  }

  /** Sends a statement back to the threads until it proves fast again (how long: see the file header). */
  demote(p: ReadProfile): void {
    p.inline = false;
    p.runs = 0;
    p.slowRing.fill(0);
    p.slowInWindow = 0;
    const base = this.#options.proofRuns;
    p.proofNeeded = p.inlineRuns < base ? Math.min(MAX_PROOF_RUNS, p.proofNeeded * 2) : base;
    this.counts.demotions++;
  }

  /** Statements running inline now. */
  get inlineStatements(): number {
    let n = 0;
    for (const p of this.#profiles.values()) if (p.inline) n++;
    return n;
  }
}
