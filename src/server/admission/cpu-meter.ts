/**
 * How busy this process's CPU is right now: the share of one core it used (all its threads: the
 * event loop and SQLite's reader and writer threads alike) over the last reading interval.
 *
 * Admission uses it to tell the two kinds of queue apart outside overload. A CPU-bound worker whose
 * limit binds is busy: starting more requests only slows every one of them, so a wait past the
 * bound is shed. A worker whose requests wait on I/O (a lock in Redis, another instance's query) is
 * idle while its queue forms: the limit is holding back requests that would cost it nothing, and
 * refusing them would be a 503 with the machine idle.
 */

/** Readings closer together than this are not taken: getrusage is cheap, not free. */
const MIN_INTERVAL_MS = 10;
/** A reading older than this says nothing about now (the queue was empty and nobody asked). */
const STALE_MS = 50;

/** Process CPU time used so far, ms (all threads). */
export type CpuClock = () => number;

/** Default {@link CpuClock}: process.cpuUsage(), user + system. */
export const processCpuMs: CpuClock = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Share of one core used over the last interval, fed by whoever looks at the queue (see the file comment). */
export class CpuMeter {
  readonly #cpu: CpuClock | undefined;
  #at = Number.NEGATIVE_INFINITY;
  #cpuAt = 0;
  #share = Number.NaN;
  #shareAt = Number.NEGATIVE_INFINITY;

  /** Without a clock (a simulation on its own clock that models no CPU) the CPU always reads busy. */
  constructor(cpu: CpuClock | undefined) {
    this.#cpu = cpu;
  }

  /** Takes a reading if the last one is at least MIN_INTERVAL_MS old. Cheap to call on every sweep. */
  sample(now: number): void {
    const elapsed = now - this.#at;
    if (elapsed < MIN_INTERVAL_MS || this.#cpu === undefined) return;
    const cpu = this.#cpu();
    // After a gap the first reading only restarts the interval: averaged over an idle spell, the
    // onset of a burst would read as idle.
    if (elapsed <= STALE_MS) {
      this.#share = (cpu - this.#cpuAt) / elapsed;
      this.#shareAt = now;
    }
    this.#at = now;
    this.#cpuAt = cpu;
  }

  /**
   * True when the last fresh interval used less than `share` of a core. Unknown (no fresh interval)
   * reads as busy: only a measured idle CPU may admit past the limit.
   */
  idleBelow(now: number, share: number): boolean {
    this.sample(now);
    return now - this.#shareAt <= STALE_MS && this.#share < share;
  }
}
