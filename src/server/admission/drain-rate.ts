/**
 * How fast the worker finishes requests, for an honest Retry-After: the time the work already
 * ahead of a retry (in flight + queued) takes to drain at the current completion rate.
 */

/** Completions per second, measured in 250 ms buckets and smoothed. */
export class DrainRate {
  #bucketStart: number;
  #count = 0;
  /** Smoothed completions per second. */
  perSecond = 0;

  constructor(now: number) {
    this.#bucketStart = now;
  }

  /** Counts one finished request. */
  completed(now: number): void {
    this.#roll(now);
    this.#count++;
  }

  #roll(now: number): void {
    const age = now - this.#bucketStart;
    if (age < 250) return;
    const rate = (this.#count * 1000) / age;
    // Buckets that passed with no completions at all count as zero: a stalled worker drains nothing.
    const weight = Math.min(1, 0.3 * (age / 250));
    this.perSecond = this.perSecond * (1 - weight) + rate * weight;
    this.#bucketStart = now;
    this.#count = 0;
  }

  /** Seconds to drain `work` requests, as an integer Retry-After clamped to 1..30. */
  retryAfter(now: number, work: number): number {
    this.#roll(now);
    if (this.perSecond <= 0) return 30;
    const s = Math.ceil(work / this.perSecond);
    return Math.min(30, Math.max(1, s));
  }
}
