/**
 * Which reads may run inline on the main thread: one profile per SQL text, fed with each run's
 * time. A statement starts on the reader threads; after `proofRuns` consecutive threaded runs
 * under the threshold it may run inline; one inline run over the threshold sends it back to the
 * threads at once, and it must then prove itself over twice as many runs (up to a cap), so a
 * statement whose cost depends on its parameters stops stalling the loop after a few tries.
 */

/** Inline-read policy settings. */
export interface ReadProfileOptions {
  /** A run at or under this many microseconds counts as fast; 0 turns inline reads off. */
  thresholdUs: number;
  /** Consecutive fast threaded runs before a statement first runs inline. */
  proofRuns: number;
  /** Most statement texts profiled; past it new texts stay on the threads (dynamic SQL). */
  maxStatements: number;
}

/** Longest proof asked of a statement after repeated demotions. */
const MAX_PROOF_RUNS = 4096;

/** What is known about one SQL text. */
export class ReadProfile {
  readonly text: string;
  /** Runs inline now. */
  inline = false;
  /** Never inline: it writes, or does not return rows (found when preparing it inline). */
  never = false;
  /** Consecutive fast threaded runs since the last slow one or the last demotion. */
  fastStreak = 0;
  /** Fast threaded runs needed before running inline. */
  proofNeeded: number;
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
    if (micros > this.#options.thresholdUs) {
      p.fastStreak = 0;
      return;
    }
    if (++p.fastStreak >= p.proofNeeded) p.inline = true;
  }

  /** Records a run inline; returns true when it was slow and the statement has just been demoted. */
  inlineRun(p: ReadProfile, micros: number): boolean {
    if (micros <= this.#options.thresholdUs) return false;
    this.demote(p);
    return true;
  }

  /** Sends a statement back to the threads until it proves fast again, over twice as many runs as last time. */
  demote(p: ReadProfile): void {
    p.inline = false;
    p.fastStreak = 0;
    p.proofNeeded = Math.min(MAX_PROOF_RUNS, p.proofNeeded * 2);
    this.counts.demotions++;
  }

  /** Statements running inline now. */
  get inlineStatements(): number {
    let n = 0;
    for (const p of this.#profiles.values()) if (p.inline) n++;
    return n;
  }
}
