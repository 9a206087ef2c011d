/**
 * Metrics the supervisor itself owns, and the cluster totals: the workers' latest heartbeat
 * snapshots plus the carried counts of workers that have exited, so that every counter on
 * /metrics and /status is monotonic for the life of the supervisor (reloads and restarts
 * included).
 */
import { aggregateMetrics, CarriedTotals, type MetricsSnapshot, promClient } from "../../telemetry/index.js";
import type { WorkerPhase } from "../lifecycle.js";
import type { WorkerStats } from "../messages.js";

/** What the supervisor's totals need from a worker record. */
export interface CountedWorker {
  phase: WorkerPhase;
  stats: WorkerStats | undefined;
  metrics: MetricsSnapshot | undefined;
}

/** Request counts as /status shows them. */
export interface RequestTotals {
  requests: number;
  /** By status class ("2xx", "5xx", …). */
  status: Record<string, number>;
  shed: number;
}

function shedOf(stats: WorkerStats | undefined): number {
  const s = stats?.admission?.shed;
  return s ? Object.values(s).reduce((a, b) => a + b, 0) : 0;
}

function addTotals(into: RequestTotals, stats: WorkerStats | undefined): void {
  into.requests += stats?.requests ?? 0;
  for (const [k, v] of Object.entries(stats?.status ?? {})) into.status[k] = (into.status[k] ?? 0) + v;
  into.shed += shedOf(stats);
}

/** Supervisor counters and gauges, in their own registry, and the counts of exited workers. */
export class SupervisorMetrics {
  readonly registry = new promClient.Registry();
  readonly restarts = new promClient.Counter({
    name: "holdfast_worker_restarts_total",
    help: "Workers started to replace one that crashed or was killed by the watchdog.",
    registers: [this.registry],
  });
  readonly crashes = new promClient.Counter({
    name: "holdfast_worker_crashes_total",
    help: "Workers that exited without being asked to, or hit an uncaught exception.",
    registers: [this.registry],
  });
  readonly timeouts = new promClient.Counter({
    name: "holdfast_worker_timeouts_total",
    help: "Workers killed by the heartbeat watchdog (event loop stuck).",
    registers: [this.registry],
  });
  readonly recycles = new promClient.Counter({
    name: "holdfast_worker_recycles_total",
    help: "Workers replaced after maxRequests or maxRss.",
    registers: [this.registry],
  });
  readonly reloads = new promClient.Counter({ name: "holdfast_reloads_total", help: "Rolling reloads started (SIGHUP).", registers: [this.registry] });
  readonly workers = new promClient.Gauge({ name: "holdfast_workers", help: "Worker processes by phase.", labelNames: ["phase"], registers: [this.registry] });
  readonly #carried = new CarriedTotals();
  readonly #carriedTotals: RequestTotals = { requests: 0, status: {}, shed: 0 };
  readonly #retired = new WeakSet<CountedWorker>();

  /** Keeps an exited worker's last counts (once per worker, whatever path its exit took). */
  retire(rec: CountedWorker): void {
    if (this.#retired.has(rec)) return;
    this.#retired.add(rec);
    if (rec.metrics) this.#carried.add(rec.metrics);
    addTotals(this.#carriedTotals, rec.stats);
  }

  /** Requests, by class and shed, of every worker since the supervisor started. */
  requestTotals(records: Iterable<CountedWorker>): RequestTotals {
    const t: RequestTotals = { requests: this.#carriedTotals.requests, status: { ...this.#carriedTotals.status }, shed: this.#carriedTotals.shed };
    for (const r of new Set(records)) if (!this.#retired.has(r)) addTotals(t, r.stats);
    return t;
  }

  /**
   * Prometheus text for the whole instance. `current` are the workers in their slots,
   * `retiring` the ones draining after a replacement: their counts still count, but their
   * per-worker gauges (RSS, heap…) would be added to the replacement's under the same
   * `worker` label, so those are left out.
   */
  async text(current: Iterable<CountedWorker>, retiring: Iterable<CountedWorker>): Promise<string> {
    this.workers.reset();
    const snaps: MetricsSnapshot[] = [this.#carried.snapshot()];
    for (const r of current) {
      this.workers.inc({ phase: r.phase });
      if (r.metrics && !this.#retired.has(r)) snaps.push(r.metrics);
    }
    for (const r of retiring) {
      if (r.metrics && !this.#retired.has(r))
        snaps.push(r.metrics.filter((m) => String(m.type) !== "gauge" || !m.values.some((v) => v.labels?.worker !== undefined)));
    }
    return aggregateMetrics(snaps, this.registry);
  }
}
