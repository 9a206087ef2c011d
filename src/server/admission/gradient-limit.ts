/**
 * The adaptive concurrency limit: how many requests one worker runs at once, learned from
 * the latency it observes.
 *
 * Shape taken from Netflix concurrency-limits' Gradient2Limit: once per sample window,
 * `gradient = clamp(baseline × tolerance / windowRtt, 0.5, 1)`, `new = limit × gradient +
 * headroom`, smoothed (`limit × (1 − s) + new × s`), never changed while the worker is
 * app-limited (in-flight below half the limit). The baseline is Envoy's adaptive-concurrency
 * minRTT rather than Gradient2's long EWMA (which ratchets upward under sustained load):
 * the lowest window average seen, re-measured every `probeIntervalMs` (± jitter) by pinning
 * the limit to `probeLimit` until `probeSamples` requests started at that concurrency have
 * finished. Headroom is Envoy's `sqrt(limit)`. See docs/overload.md for the sources.
 */

/**
 * Concurrency a baseline probe runs at, unless minLimit is higher: low enough to show the service's
 * own latency, high enough that a probe at light load does not queue a burst (Envoy's default
 * min_concurrency is 3). It was minLimit itself while that defaulted to 4.
 */
const DEFAULT_PROBE_LIMIT = 4;

/** Probes in a row under sustained overload whose higher baseline waits (see GradientLimit#probed): about 2 minutes at the default 30 s interval. */
const MAX_DEFERRED_RAISES = 3;

/** The gradient's floor (Gradient2's): one window lowers the limit to no less than half. */
const GRADIENT_FLOOR = 0.5;

/**
 * Under sustained overload and above the halving floor, a window closes early, after this many
 * samples, when their average is already past twice the tolerated latency (the gradient is at its
 * floor whatever the rest brings). At the onset of an overload a window of 10 samples took 400 ms
 * to fill: 12 searches in flight on a shared core finished one every 40 ms, and the limit stayed
 * up meanwhile.
 */
const EARLY_CLOSE_SAMPLES = 3;

/**
 * While app-limited the limit decays toward this many times the recent in-flight peak (plus
 * headroom). 3 left a worker that idled at one or two requests in flight at 10–12 when 4× load
 * began, and its first second admitted that many searches at once (bench:overload 4×, 20 s runs on
 * a 2-core machine: admitted p99 108–113 ms at 1.5 against 275–336 ms at 3, 161–212 at 2 against
 * 166–170 at 1.5 in a later batch). 1.5 shed a burst of the replayed noisy half-load trace
 * (trace-replay.test.ts, 1 of 727); 2 sheds none.
 */
const DECAY_PEAK_FACTOR = 2;

/**
 * Under sustained overload, a limit held at the growth cap (#twiceBdp) may try one slot more after
 * this many windows at its value, and keeps it only if the same number of windows at the higher limit
 * finished STEP_GAIN times as many requests a second (BBR's rule: more in flight only if it delivers
 * more). The cap reads the baseline, the fastest window's average, which on a mix of point reads and
 * scans lies below a typical window's, so it held a worker at 1–2 in flight that served the load only
 * at 5–10: bench:overload at 0.8× of holdfast's own capacity shed 4–11 % (in the traced run for 20 s, until a lull)
 * (docs/overload.md, "Known limit"). A CPU-bound worker gains nothing from the step and goes back.
 */
const STEP_WINDOWS = 3;
/** Completions a second the step must add to be kept; a step kept on noise alone is given back by the gradient once latency leaves tolerance. */
const STEP_GAIN = 1.05;
/** Windows before trying again after a step that did not pay: about 2 s at 100 ms windows. */
const STEP_HOLD_WINDOWS = 20;

/** Tuning of {@link GradientLimit}; defaults suit HTTP handlers of 1–100 ms. */
export interface GradientLimitOptions {
  /** Starting limit (admission.limit). */
  initial: number;
  /** Floor (admission.minLimit). */
  min: number;
  /** Ceiling (admission.maxLimit). */
  max: number;
  /** A window closes after at least this long… Default 100 ms. */
  windowMs?: number;
  /** …and at least this many samples (or after maxWindowMs with any). Default 10. */
  windowSamples?: number;
  /** A window with any samples closes after this long. Default 1000 ms. */
  maxWindowMs?: number;
  /** Latency above baseline that still counts as "no queueing": 0.5 = 1.5× baseline. Default 0.5. */
  tolerance?: number;
  /** Absolute latency added to the tolerated level, ms: a sub-millisecond service must not halve its limit over 1 ms of queueing. Default 5. */
  slackMs?: number;
  /** Weight of a new estimate (Gradient2 smoothing) when it is lower. Default 0.2. */
  smoothing?: number;
  /** Weight of a new estimate when it is higher (latency at baseline, the limit binding). Default 1: grow by the whole headroom. */
  growSmoothing?: number;
  /** How often the baseline is re-measured, ms (0 = never). Default 30 000. */
  probeIntervalMs?: number;
  /** Random spread of the probe interval, as a fraction. Default 0.15. */
  probeJitter?: number;
  /** Concurrency while probing (never above the limit learned so far). Default max(min, 4). */
  probeLimit?: number;
  /** Samples that make a probe. Default 20. */
  probeSamples?: number;
  /** Random source in [0, 1) for jitter; injectable for deterministic tests. */
  random?: () => number;
}

/** One closed window, reported to listeners (logs, tests). */
export interface LimitUpdate {
  limit: number;
  windowRttMs: number;
  baselineMs: number;
  gradient: number;
  samples: number;
}

/** Where the limit learner is. */
export type LimitPhase = "learning" | "probe-drain" | "probe";

/** Adaptive concurrency limit (see the file comment for the algorithm and its sources). */
export class GradientLimit {
  readonly #min: number;
  readonly #max: number;
  readonly #windowMs: number;
  readonly #windowSamples: number;
  readonly #maxWindowMs: number;
  readonly #tolerance: number;
  readonly #slackMs: number;
  readonly #smoothing: number;
  readonly #growSmoothing: number;
  readonly #probeIntervalMs: number;
  readonly #probeJitter: number;
  readonly #probeLimit: number;
  readonly #probeSamples: number;
  readonly #random: () => number;

  #estimate: number;
  /** Integer limit the controller enforces. */
  limit: number;
  /** Lowest window-average latency seen since the last probe (ms); Infinity until measured. */
  baselineMs = Number.POSITIVE_INFINITY;
  /** Bumped when a probe starts measuring, so samples from requests started before it are ignored. */
  epoch = 0;
  phase: LimitPhase = "learning";
  /** Set by the controller: a standing queue right now (see overload-detector.ts). Changes how the limit shrinks. */
  overloaded = false;
  /** Set by the controller: the worker's recent completions per second (0 = not known yet). Sets how far the limit may halve. */
  throughputPerSecond = 0;

  #winStart = Number.NaN;
  #winSum = 0;
  #winCount = 0;
  #winMaxInflight = 0;
  /** Recent peak of in-flight requests (see #closeWindow). */
  #peakInflight = 0;
  #winFailures = 0;
  #nextProbeAt: number;
  #probeSum = 0;
  #probeCount = 0;
  #probeStartedAt = 0;
  /** Probes in a row, under sustained overload, whose higher baseline was not taken (#probed). */
  #deferredRaises = 0;
  /** Limit to return to after a probe. */
  #savedEstimate = 0;
  /** Completions and window time at the current integer limit (#countAtLimit), for the step past the cap. */
  #atLimit = -1;
  #atLimitSamples = 0;
  #atLimitMs = 0;
  #atLimitWindows = 0;
  /** The limit a step past the cap came from (0: no step pending), and its completions a second. */
  #stepFrom = 0;
  #stepFromRate = 0;
  /** Windows left before another step may be tried. */
  #stepHold = 0;
  /** Called after every window; set by the controller for logs. */
  onUpdate: ((u: LimitUpdate) => void) | undefined;

  constructor(o: GradientLimitOptions, now: number) {
    this.#min = Math.max(1, o.min);
    this.#max = Math.max(this.#min, o.max);
    this.#windowMs = o.windowMs ?? 100;
    this.#windowSamples = o.windowSamples ?? 10;
    this.#maxWindowMs = o.maxWindowMs ?? 1000;
    this.#tolerance = o.tolerance ?? 0.5;
    this.#slackMs = o.slackMs ?? 5;
    this.#smoothing = o.smoothing ?? 0.2;
    this.#growSmoothing = o.growSmoothing ?? 1;
    this.#probeIntervalMs = o.probeIntervalMs ?? 30_000;
    this.#probeJitter = o.probeJitter ?? 0.15;
    this.#probeLimit = Math.max(1, o.probeLimit ?? Math.max(this.#min, DEFAULT_PROBE_LIMIT));
    this.#probeSamples = o.probeSamples ?? 20;
    this.#random = o.random ?? Math.random;
    this.#estimate = clamp(o.initial, this.#min, this.#max);
    this.limit = Math.floor(this.#estimate);
    this.#nextProbeAt = this.#scheduleProbe(now);
  }

  #scheduleProbe(now: number): number {
    if (this.#probeIntervalMs <= 0) return Number.POSITIVE_INFINITY;
    const spread = this.#probeIntervalMs * this.#probeJitter;
    return now + this.#probeIntervalMs + (this.#random() * 2 - 1) * spread;
  }

  /**
   * One finished request: its service latency, the in-flight count when it finished, whether it
   * succeeded, and the epoch it was admitted in. Cheap: arithmetic only, except at window ends.
   */
  sample(now: number, rttMs: number, inflight: number, ok: boolean, epoch: number): void {
    if (this.phase !== "learning") {
      this.#probeSample(now, rttMs, inflight, epoch);
      return;
    }
    if (Number.isNaN(this.#winStart)) this.#winStart = now;
    this.#winSum += rttMs;
    this.#winCount++;
    if (inflight > this.#winMaxInflight) this.#winMaxInflight = inflight;
    if (!ok) this.#winFailures++;
    const age = now - this.#winStart;
    if ((this.#winCount >= this.#windowSamples && age >= this.#windowMs) || age >= this.#maxWindowMs || this.#plainlyTooSlow(now)) this.#closeWindow(now);
  }

  /** Latency that still counts as "no queueing": (1 + tolerance) × baseline + slack, ms. */
  #toleratedMs(): number {
    return (1 + this.#tolerance) * this.baselineMs + this.#slackMs;
  }

  /**
   * Under sustained overload, the open window already says "far too many in flight":
   * EARLY_CLOSE_SAMPLES samples averaging past twice the tolerated latency while the limit binds
   * (not app-limited; see #closeWindow).
   */
  #plainlyTooSlow(now: number): boolean {
    return (
      this.overloaded &&
      this.#winCount >= EARLY_CLOSE_SAMPLES &&
      this.#winMaxInflight >= this.#estimate / 2 &&
      this.#winSum / this.#winCount > this.#toleratedMs() / GRADIENT_FLOOR &&
      this.#mayHalve(this.#twiceBdp(now))
    );
  }

  /**
   * The limit may halve (and a window close early): under sustained overload and above the halving
   * floor (#twiceBdp with the probe's concurrency as floor, read by the caller while the window is
   * still open).
   */
  #mayHalve(halvingFloor: number): boolean {
    return this.overloaded && this.#estimate > halvingFloor;
  }

  /**
   * Twice the concurrency the worker's measured throughput needs at its baseline latency (Little's
   * law: in flight = throughput × latency; BBR keeps at most twice this bandwidth-delay product in
   * flight), never below `floor`. Under sustained overload it bounds the limit from both sides.
   * - With the probe's concurrency as floor: the lowest limit halving may reach. Below it a slow
   *   window is as likely a CPU-starved process (slow whatever its concurrency) as too many requests
   *   in flight, and the smoothed gradient goes on from there. An I/O-bound service with 4 slots of
   *   20 ms (200/s) gets 8, which kept overload-admission.test.ts's service from being halved to a
   *   limit of 1 beside other load; a CPU-bound worker on a shared core (bench:overload, ~70/s at a
   *   baseline of a few ms) gets the probe's 4, so an onset with 8–12 in flight halves once more
   *   (bench:overload 4×, 20 s, two interleaved runs each: admitted p99 91–102 ms against 126–161 ms
   *   with the fixed floor of 8).
   * - With no floor of its own (1): the highest limit growth may reach (BBR's in-flight cap), past
   *   which only a step that finishes more requests a second may go (STEP_WINDOWS). A
   *   CPU-bound worker on a shared core (45/s at a 10 ms baseline) then runs one request at a time
   *   under overload, where the probe's 4 as floor let it swing between 1 and 3: interleaved 30 s 4×
   *   runs (2026-12-01 01:05 UTC, three of each) gave admitted p50 15–21 ms against 30–31 and p99
   *   73, 95, 127 ms against 107, 115, 120, goodput 132, 132, 102 against 137, 123, 126 2xx/s.
   *   Why a cap at all: a baseline probe taken while two workers share a saturated core measures the
   *   other worker's load as much as the service (the probe's value was not logged; in the trace a
   *   search alone in its worker took 38 ms (median) at 4× against 14 ms at half load, and the limit
   *   climbed right after the probe), the tolerated latency rises with it, and growth by whole
   *   headrooms outran the latency it caused: one worker went from 2 to 19 in 0.75 s and its requests
   *   ran 280–420 ms, 23 of the 26 slowest of a 30 s stage at 4× (bench:overload, trace of 2026-11-30
   *   23:18). More in flight than the throughput needs only waits inside the worker; a service that is
   *   really I/O-bound raises its throughput as its limit grows, so its cap grows with it (2× a window).
   * The throughput is the higher of the controller's completion rate and this window's, so a rate
   * still smoothed from light load does not pull the bound down. Until the baseline and a rate are
   * known: twice the probe's concurrency.
   */
  #twiceBdp(now: number, floor = this.#probeLimit): number {
    const windowRate = this.#winCount > 0 && now > this.#winStart ? (this.#winCount * 1000) / (now - this.#winStart) : 0;
    const rate = Math.max(this.throughputPerSecond, windowRate);
    if (!Number.isFinite(this.baselineMs) || rate <= 0) return 2 * this.#probeLimit;
    return Math.max(floor, Math.ceil((2 * rate * this.baselineMs) / 1000));
  }

  /** Called by the controller when in-flight drops, so a probe can start measuring once drained. */
  inflightChanged(inflight: number): void {
    if (this.phase === "probe-drain" && inflight <= this.limit) {
      this.phase = "probe";
      this.epoch++;
      this.#probeSum = 0;
      this.#probeCount = 0;
    }
  }

  #probeSample(now: number, rttMs: number, inflight: number, epoch: number): void {
    // A probe that cannot finish (long requests never drain, too little traffic) is abandoned.
    if (now - this.#probeStartedAt > this.#maxWindowMs * 3) {
      if (this.#probeCount > 0) this.#probed(this.#probeSum / this.#probeCount);
      this.#endProbe(now);
      return;
    }
    if (this.phase === "probe-drain") {
      this.inflightChanged(inflight);
      return;
    }
    if (epoch !== this.epoch) return;
    this.#probeSum += rttMs;
    this.#probeCount++;
    if (this.#probeCount < this.#probeSamples) return;
    // Probe done: the baseline is what the service costs at low concurrency right now.
    this.#probed(this.#probeSum / this.#probeCount);
    this.#endProbe(now);
  }

  /**
   * A probe measured `ms`. Under sustained overload it may lower the baseline but raises it only at
   * the MAX_DEFERRED_RAISES + 1-th probe in a row that would: on a core shared with another saturated
   * worker a probe measures that worker's load as much as the service (not logged; a search alone in
   * its worker took 21 ms (median) at 4× against 9–14 ms at half load in these runs), the tolerated
   * latency and the growth cap rose with it, and the limit went from 1–2 to 4–5 with requests at 80–130 ms: 32 of the 42 slowest of a 30 s stage
   * at 4× came in the 2 s after the probe, the stage's p99 106 ms against 88 ms without those seconds
   * (bench:overload, default run of 2026-11-30 23:49 UTC, with the growth cap). A service whose
   * dependency really got slower during an overload keeps too low a limit that long (about two
   * minutes at the default interval) or until the overload ends, whichever is first.
   */
  #probed(ms: number): void {
    if (this.overloaded && ms > this.baselineMs && this.#deferredRaises < MAX_DEFERRED_RAISES) {
      this.#deferredRaises++;
      return;
    }
    this.#deferredRaises = 0;
    this.baselineMs = ms;
  }

  #endProbe(now: number): void {
    this.phase = "learning";
    this.#estimate = this.#savedEstimate;
    this.limit = Math.floor(this.#estimate);
    this.#resetWindow(now);
    this.#nextProbeAt = this.#scheduleProbe(now);
  }

  #resetWindow(now: number): void {
    this.#winStart = now;
    this.#winSum = 0;
    this.#winCount = 0;
    this.#winMaxInflight = 0;
    this.#winFailures = 0;
  }

  #closeWindow(now: number): void {
    // Read before the window resets: the floor uses this window's completion rate.
    const halvingFloor = this.#twiceBdp(now);
    const growthCap = this.#twiceBdp(now, 1);
    const mayHalve = this.#mayHalve(halvingFloor);
    const rtt = this.#winSum / this.#winCount;
    const samples = this.#winCount;
    const maxInflight = this.#winMaxInflight;
    const failures = this.#winFailures;
    this.#countAtLimit(samples, now - this.#winStart);
    this.#resetWindow(now);
    if (rtt < this.baselineMs) this.baselineMs = rtt;
    // Envoy's gradient adds a buffer to minRTT; ours is relative (tolerance) plus absolute (slack).
    let gradient = clamp(this.#toleratedMs() / rtt, GRADIENT_FLOOR, 1);
    // Failed (5xx) requests are an overload signal of their own: shrink, with no headroom.
    if (failures > 0 && gradient > 0.9) gradient = 0.9;
    // App-limited (in-flight below half the limit): our concurrency is not what made this window
    // slow or fast, so it teaches nothing about the limit. Gradient2 only refuses to grow here; we
    // also refuse to shrink, or a shared machine's scheduler noise at light load ratchets the limit
    // down (we saw it settle near 20 per worker at half load) and the next burst is shed.
    const appLimited = maxInflight < this.#estimate / 2;
    if (!appLimited) {
      // Headroom (Envoy's sqrt(limit)) is dropped under sustained overload while latency is above
      // tolerance. Gradient2 adds it to every estimate, which pins the limit at 4 whenever latency
      // is far above baseline (L = L/2 + sqrt(L)): on a CPU-bound service those extra requests
      // only wait inside the worker, where admission cannot see or shed them, and at 4× load they
      // made run time, not queue wait, the bulk of every admitted request's latency. Without it the
      // limit settles where latency meets the tolerated level (Vegas' rule). Only under overload:
      // on a mixed workload the baseline (the fastest window) is below a typical window, so at
      // light load the same rule ratcheted the limit to its floor (replayed quiet trace: 20 → 4).
      const headroom = failures > 0 || (this.overloaded && gradient < 1) ? 0 : Math.sqrt(this.#estimate);
      const target = this.#estimate * gradient + headroom;
      // Growing with latency within tolerance uses the whole headroom (sqrt(limit) a window): a
      // limit that binds while latency stays near baseline is simply too low, and a service that
      // needs 200 slots must not wait a minute for them.
      // Shrinking is smoothed (Gradient2's 0.2) while latency is within twice the tolerated level:
      // we tried shrinking faster there (0.5), and on a machine shared with other load noisy windows
      // pinned the limit near its floor and cost two thirds of goodput. Under sustained overload
      // (the standing-queue rule, overload-detector.ts), past twice the tolerated level (the
      // gradient at its floor) the limit halves at once, to no less than the halving floor
      // (#mayHalve): smoothed, a worker meeting 4× load with 12 in flight took a second to come
      // down while every request it admitted ran 300–500 ms (bench:overload 4×, 20 s runs, halving
      // then on latency alone and down to any limit: admitted p99 108–113 ms halving against
      // 162–513 ms smoothed). Only under overload: a scheduler stall at half load (a burst of
      // in-flight requests, all slow) once collapsed the limit, and the next burst was shed; and
      // halving on latency alone shed 1.6 % at 0.8× on a noisy machine (bench:overload, 12:32 UTC).
      let next: number;
      if (gradient <= GRADIENT_FLOOR && mayHalve) next = Math.max(target, halvingFloor);
      else {
        const s = target > this.#estimate && gradient >= 1 ? this.#growSmoothing : this.#smoothing;
        next = this.#estimate * (1 - s) + target * s;
      }
      // Under sustained overload, growth stops at twice the bandwidth-delay product (#twiceBdp, with
      // no floor of its own); a limit already above it is left to the gradient, never cut by this rule.
      // Held there with latency within tolerance, it may step one past it (STEP_WINDOWS).
      if (this.overloaded && next > this.#estimate) {
        const capped = Math.max(this.#estimate, Math.min(next, growthCap));
        next = capped <= this.#estimate && gradient >= 1 ? this.#stepPastCap() : capped;
      }
      this.#estimate = clamp(next, this.#min, this.#max);
      this.limit = Math.floor(this.#estimate);
    } else {
      // App-limited: latency says nothing, but in-flight does. A limit far above what the worker has
      // recently had in flight admits a whole burst at once when an overload begins (bench:overload
      // at 4×: the 20 a worker starts with let 40 searches start together on one core, and their
      // 300–490 ms run times were the stage's p99). It decays, in one window, to DECAY_PEAK_FACTOR ×
      // the recent peak (this window's included) plus headroom (never below minLimit); a burst above
      // that grows it back by a whole headroom a window while latency stays within tolerance. Counts,
      // not latency: the scheduler noise that must not shrink the limit (above) cannot move this.
      // It used to go halfway a window, and a worker that saw a trickle before an overload had closed
      // one or two windows: it met 4× load at 12 (bench:overload, 4× for 20 s, three interleaved runs
      // each: admitted p99 94–100 ms in one window against 100–142 ms halfway; goodput 148–150 against
      // 153–157 2xx/s; the replayed noisy half-load trace sheds nothing either way).
      const floor = DECAY_PEAK_FACTOR * Math.max(maxInflight, this.#peakInflight) + Math.sqrt(this.#estimate);
      if (this.#estimate > floor) {
        this.#estimate = clamp(floor, this.#min, this.#max);
        this.limit = Math.floor(this.#estimate);
      }
    }
    // Recent peak in-flight: this window's, or the earlier one fading by a fifth a window.
    this.#peakInflight = Math.max(maxInflight, this.#peakInflight * 0.8);
    this.onUpdate?.({ limit: this.limit, windowRttMs: rtt, baselineMs: this.baselineMs, gradient, samples });
    if (now >= this.#nextProbeAt) this.#startProbe(now);
  }

  /**
   * Counts a closed window's completions at the limit it ran at, and judges a pending step past the
   * cap once it has STEP_WINDOWS windows at the higher limit: kept if they finished STEP_GAIN times the
   * requests a second of the windows before it, else the limit goes back and waits STEP_HOLD_WINDOWS.
   */
  #countAtLimit(samples: number, windowMs: number): void {
    if (this.limit !== this.#atLimit) {
      this.#atLimit = this.limit;
      this.#atLimitSamples = 0;
      this.#atLimitMs = 0;
      this.#atLimitWindows = 0;
    }
    this.#atLimitSamples += samples;
    this.#atLimitMs += Math.max(1, windowMs);
    this.#atLimitWindows++;
    if (this.#stepHold > 0) this.#stepHold--;
    if (this.#stepFrom === 0) return;
    // The gradient moved the limit meanwhile, or the overload ended: the step is moot.
    if (this.limit !== this.#stepFrom + 1 || !this.overloaded) {
      this.#stepFrom = 0;
      return;
    }
    if (this.#atLimitWindows < STEP_WINDOWS) return;
    if (this.#rateAtLimit() < this.#stepFromRate * STEP_GAIN) {
      this.#estimate = this.#stepFrom;
      this.limit = this.#stepFrom;
      this.#stepHold = STEP_HOLD_WINDOWS;
    }
    this.#stepFrom = 0;
  }

  /** Completions a second over the windows closed at the current integer limit. */
  #rateAtLimit(): number {
    return (this.#atLimitSamples * 1000) / this.#atLimitMs;
  }

  /** The estimate for a limit held at the growth cap: one more slot on trial, or unchanged. */
  #stepPastCap(): number {
    // #countAtLimit ran earlier in this window close, so its counts are at the current limit (a step
    // it just gave back set #stepHold).
    if (this.#stepFrom !== 0 || this.#stepHold > 0 || this.#atLimitWindows < STEP_WINDOWS) return this.#estimate;
    if (this.limit + 1 > this.#max) return this.#estimate;
    this.#stepFrom = this.limit;
    this.#stepFromRate = this.#rateAtLimit();
    return this.limit + 1;
  }

  #startProbe(now: number): void {
    this.#probeStartedAt = now;
    this.#probeSum = 0;
    this.#probeCount = 0;
    this.#savedEstimate = this.#estimate;
    this.phase = "probe-drain";
    // Never above the limit learned so far: a probe measures latency at low concurrency, and under
    // overload the learned limit may already be lower than probeLimit.
    this.limit = Math.min(this.#probeLimit, this.limit);
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
