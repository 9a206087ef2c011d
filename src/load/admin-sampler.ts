/**
 * Samples holdfast admin endpoints (`--admin URL`, one per instance) once a second during a load
 * run, through the monitor's own scrape and tracker (so `load` and `monitor` read /status the
 * same way), and sums up what the server-side SLOs judge: pool utilisation, lock and pool
 * timeouts, worker restarts, shed requests, event-loop lag.
 */
import { InstanceTracker, type InstanceView, scrapeInstance } from "../monitor/index.js";
import type { ServerInstanceSummary, ServerSample, ServerSummary } from "./server-summary.js";

/** How to reach the admin endpoints. */
export interface AdminSamplerOptions {
  /** Bearer token (admin.token of the instances). */
  token?: string | undefined;
  /** Time origin of the run (performance.now()), for the samples' `t_s`. */
  start: number;
}

/** Workers report to the supervisor about once a second: the last reading waits this long after the run so their final reports are in. */
const LAST_REPORT_MS = 1100;
/** The trackers' alert window: longer than any run, so their incident totals cover all of it. */
const WHOLE_RUN_MS = 7 * 24 * 3_600_000;

interface Instance {
  target: string;
  tracker: InstanceTracker;
  last: InstanceView | undefined;
  ok: number;
  failed: number;
  lastError: string | null;
  poolMax: number | null;
  lags: number[];
}

/** Once-a-second sampler over one or more admin endpoints. */
export class AdminSampler {
  readonly #o: AdminSamplerOptions;
  readonly #instances: Instance[];
  readonly #timeline: ServerSample[] = [];
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(targets: readonly string[], o: AdminSamplerOptions) {
    this.#o = o;
    this.#instances = targets.map((target) => ({
      target,
      tracker: new InstanceTracker(target, WHOLE_RUN_MS),
      last: undefined,
      ok: 0,
      failed: 0,
      lastError: null,
      poolMax: null,
      lags: [],
    }));
  }

  /** Reads every endpoint once before the run (the baseline the counters are compared with); returns "target: reason" for each that failed. */
  async prime(): Promise<string[]> {
    await this.#sampleAll(false);
    return this.#instances.filter((i) => i.ok === 0).map((i) => `${i.target}: ${i.lastError ?? "no answer"}`);
  }

  /** Starts sampling once a second. */
  start(): void {
    this.#timer = setInterval(() => {
      // A slow endpoint must not pile up readings: skip a second rather than overlap.
      if (this.#running) return;
      this.#running = this.#sampleAll(true).finally(() => {
        this.#running = undefined;
      });
    }, 1000);
  }

  /** Stops, takes a last reading once the workers' final reports are in, and sums up. */
  async stop(): Promise<ServerSummary> {
    clearInterval(this.#timer);
    await this.#running;
    await new Promise((r) => setTimeout(r, LAST_REPORT_MS));
    await this.#sampleAll(true);
    return this.#summary();
  }

  async #sampleAll(record: boolean): Promise<void> {
    await Promise.all(this.#instances.map((i) => this.#sample(i, record)));
  }

  async #sample(i: Instance, record: boolean): Promise<void> {
    const scrape = await scrapeInstance(i.target, { token: this.#o.token, timeoutMs: 900 });
    const view = i.tracker.update(scrape);
    const t_s = Math.round((performance.now() - this.#o.start) / 100) / 10;
    if (!view.up) {
      i.failed++;
      i.lastError = view.error ?? "down";
      if (record)
        this.#timeline.push({
          t_s,
          target: i.target,
          up: false,
          pool_utilization: null,
          pool_waiting: null,
          inflight: null,
          requests_per_s: null,
          shed_per_s: null,
          p99_ms: null,
          loop_lag_max_ms: null,
          error: i.lastError,
        });
      return;
    }
    i.ok++;
    i.last = view;
    const util = view.pool?.utilization;
    if (util !== undefined) i.poolMax = Math.max(i.poolMax ?? 0, util);
    const lags = view.workers.map((w) => w.eventLoopLagMs);
    i.lags.push(...lags);
    if (!record) return;
    const r = (v: number | undefined, k = 10) => (v === undefined ? null : Math.round(v * k) / k);
    this.#timeline.push({
      t_s,
      target: i.target,
      up: true,
      pool_utilization: r(util, 1000),
      pool_waiting: view.pool?.waiting ?? null,
      inflight: view.workers.reduce((a, w) => a + w.inflight, 0),
      requests_per_s: r(view.interval?.requestsPerS),
      shed_per_s: r(view.interval?.shedPerS),
      p99_ms: r(view.interval?.p99Ms),
      loop_lag_max_ms: lags.length ? Math.max(...lags) : null,
    });
  }

  #summary(): ServerSummary {
    const instances: ServerInstanceSummary[] = this.#instances.map((i) => {
      const inc = i.last?.windowIncidents;
      const w = i.tracker.windowDelta();
      return {
        target: i.target,
        samples_ok: i.ok,
        samples_failed: i.failed,
        last_error: i.lastError,
        pool_utilization_max: i.poolMax,
        pool_timeouts: inc?.poolTimeouts ?? 0,
        lock_timeouts: inc?.lockTimeouts ?? 0,
        worker_restarts: inc?.workerRestarts ?? 0,
        worker_timeouts: inc?.workerTimeouts ?? 0,
        worker_crashes: inc?.workerCrashes ?? 0,
        requests: w.delta.requests,
        shed: w.shed,
        loop_lag_p99_ms: p99(i.lags),
      };
    });
    const sum = (f: (x: ServerInstanceSummary) => number) => instances.reduce((a, x) => a + f(x), 0);
    const pools = instances.map((x) => x.pool_utilization_max).filter((x): x is number => x !== null);
    return {
      samples: this.#timeline.length,
      instances,
      pool_utilization_max: pools.length ? Math.max(...pools) : null,
      pool_timeouts: sum((x) => x.pool_timeouts),
      lock_timeouts: sum((x) => x.lock_timeouts),
      worker_restarts: sum((x) => x.worker_restarts),
      worker_timeouts: sum((x) => x.worker_timeouts),
      worker_crashes: sum((x) => x.worker_crashes),
      requests: sum((x) => x.requests),
      shed: sum((x) => x.shed),
      loop_lag_p99_ms: p99(this.#instances.flatMap((i) => i.lags)),
      timeline: this.#timeline,
    };
  }
}

/** The 99th percentile (nearest rank) of a few hundred readings; null for none. */
function p99(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.99 * s.length) - 1)] as number;
}
