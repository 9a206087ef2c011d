/**
 * Turns successive scrapes of one admin endpoint into what the dashboard and the alerts
 * need: rates over the last interval, rates and incidents over the alert window, and the
 * current gauges. Pure: time comes in with each scrape.
 */
import { countStatus, diffHistograms, emptyDelta, quantileMs, type RequestDelta, sumDeltas } from "./request-histogram.js";
import type { InstanceStatus, WorkerStatus } from "./status-document.js";
import type { Incidents, InstanceView, Rates, Scrape } from "./types.js";

/** One interval between two good scrapes. */
interface IntervalRecord {
  at: number;
  seconds: number;
  delta: RequestDelta;
  source: Rates["source"];
  shed: number;
  incidents: Incidents;
}

/** Increase of a counter that may have been reset (process replaced): a drop means "started again from 0". */
function increase(prev: number | undefined, cur: number): number {
  if (prev === undefined || cur < prev) return cur;
  return cur - prev;
}

/**
 * Builds rates from a request delta over `seconds`. With `requestsPerS` (measured from the
 * workers' own report times), per-second figures are that rate split by the delta's shares;
 * shares and quantiles need no time base, so they stay exact either way.
 */
export function ratesFrom(delta: RequestDelta, shed: number, seconds: number, source: Rates["source"], requestsPerS?: number): Rates {
  const s = seconds > 0 ? seconds : 1;
  const errors = countStatus(delta, "5");
  const rps = requestsPerS ?? delta.requests / s;
  const share = (n: number) => (requestsPerS === undefined ? n / s : delta.requests > 0 ? (rps * n) / delta.requests : 0);
  return {
    seconds,
    requests: delta.requests,
    requestsPerS: rps,
    errors5xxPerS: share(errors),
    errorRatio: delta.requests > 0 ? errors / delta.requests : undefined,
    s503PerS: share(countStatus(delta, "503")),
    shedPerS: requestsPerS === undefined ? shed / s : share(Math.min(shed, delta.requests)),
    p50Ms: quantileMs(delta, 0.5),
    p99Ms: quantileMs(delta, 0.99),
    source,
  };
}

function emptyIncidents(): Incidents {
  return { poolTimeouts: 0, lockTimeouts: 0, workerRestarts: 0, workerTimeouts: 0, workerCrashes: 0 };
}

function addIncidents(a: Incidents, b: Incidents): Incidents {
  return {
    poolTimeouts: a.poolTimeouts + b.poolTimeouts,
    lockTimeouts: a.lockTimeouts + b.lockTimeouts,
    workerRestarts: a.workerRestarts + b.workerRestarts,
    workerTimeouts: a.workerTimeouts + b.workerTimeouts,
    workerCrashes: a.workerCrashes + b.workerCrashes,
  };
}

/** Requests by status class from /status counters, for when /metrics could not be read. */
function statusDelta(prev: InstanceStatus, cur: InstanceStatus): RequestDelta {
  const d = emptyDelta();
  d.requests = increase(prev.counters.requests, cur.counters.requests);
  for (const [k, v] of Object.entries(cur.counters.status)) d.byStatus[k] = increase(prev.counters.status[k], v);
  return d;
}

function workerCounters(s: InstanceStatus): Map<number, { pool: number; lock: number }> {
  const m = new Map<number, { pool: number; lock: number }>();
  for (const w of s.workers) m.set(w.pid, { pool: w.db?.pool?.timeouts ?? 0, lock: w.db?.sqlite?.lockTimeouts ?? 0 });
  return m;
}

/** Supervisor events kept in a view. */
const EVENTS_KEPT = 5;

/** How long figures are carried over while no worker reported anything new. */
const STALE_LIMIT_MS = 2500;

/** When a worker's numbers in this scrape were taken (its last heartbeat). */
function reportAt(s: Extract<Scrape, { ok: true }>, w: WorkerStatus): number {
  return s.at - w.lastHeartbeatMsAgo;
}

/** True when some worker reported since `prev` (or a worker came or went). */
function hasFreshReport(prev: Extract<Scrape, { ok: true }>, cur: Extract<Scrape, { ok: true }>): boolean {
  const before = new Map(prev.status.workers.map((w) => [w.pid, w]));
  if (cur.status.workers.length !== before.size) return true;
  for (const w of cur.status.workers) {
    const p = before.get(w.pid);
    // 50 ms of slack: the two reads of one report differ only by scrape timing.
    if (!p || reportAt(cur, w) - reportAt(prev, p) > 50) return true;
  }
  return false;
}

/** Tracks one instance across scrapes. */
export class InstanceTracker {
  readonly target: string;
  readonly #windowMs: number;
  #last: Extract<Scrape, { ok: true }> | undefined;
  #intervals: IntervalRecord[] = [];
  #lastInterval: Rates | undefined;
  /** Last known requests/s per worker pid. */
  #rates = new Map<number, number>();
  /** Time of the newest supervisor event already seen, once the first scrape primed it. */
  #seenEvent: string | undefined;

  /** `windowMs` is how far back alert rates look. */
  constructor(target: string, windowMs: number) {
    this.target = target;
    this.#windowMs = windowMs;
  }

  /** Takes a scrape and returns the view to draw and judge. */
  update(scrape: Scrape): InstanceView {
    if (!scrape.ok) {
      // Keep the last good scrape: when the instance comes back, its counters are compared
      // with it (a restart shows as a reset and is handled by `increase`).
      return { target: this.target, at: scrape.at, up: false, error: scrape.error, workers: [] };
    }
    // After an outage longer than the window, the counters' increase cannot be placed in time:
    // start afresh rather than pour it all into one interval of the window.
    const prev = this.#last && scrape.at - this.#last.at <= this.#windowMs ? this.#last : undefined;
    const cur = scrape;
    const sameProcess = prev !== undefined && prev.status.instance.pid === cur.status.instance.pid;
    // Workers report to the supervisor with their heartbeat (about once a second). A scrape that
    // saw no new report carries no new numbers: keep the last interval's figures instead of
    // showing a zero now and a double next time. Only briefly, so stuck workers still read as 0.
    if (prev && sameProcess && !hasFreshReport(prev, cur) && cur.at - prev.at < STALE_LIMIT_MS) {
      return this.#view(cur, this.#lastInterval);
    }
    let interval: Rates | undefined;
    if (prev) {
      const seconds = (cur.at - prev.at) / 1000;
      const useMetrics = cur.histogram !== undefined && (prev.histogram !== undefined || !sameProcess);
      const delta = useMetrics
        ? diffHistograms(sameProcess ? prev.histogram : undefined, cur.histogram!)
        : statusDelta(sameProcess ? prev.status : zeroed(cur.status), cur.status);
      const before = sameProcess ? prev.status : zeroed(cur.status);
      const shed = increase(before.counters.shed, cur.status.counters.shed);
      const incidents = emptyIncidents();
      const prevWorkers = sameProcess ? workerCounters(prev.status) : new Map<number, { pool: number; lock: number }>();
      for (const [pid, c] of workerCounters(cur.status)) {
        const p = prevWorkers.get(pid);
        incidents.poolTimeouts += increase(p?.pool, c.pool);
        incidents.lockTimeouts += increase(p?.lock, c.lock);
      }
      incidents.workerRestarts = increase(before.counters.restarts, cur.status.counters.restarts);
      incidents.workerTimeouts = increase(before.counters.timeouts, cur.status.counters.timeouts);
      incidents.workerCrashes = increase(before.counters.crashes, cur.status.counters.crashes);
      const source: Rates["source"] = useMetrics ? "metrics" : "status";
      this.#intervals.push({ at: cur.at, seconds, delta, source, shed, incidents });
      interval = ratesFrom(delta, shed, seconds, source, sameProcess ? this.#workerRates(prev, cur) : undefined);
    }
    this.#last = cur;
    this.#lastInterval = interval;
    this.#intervals = this.#intervals.filter((r) => r.at > cur.at - this.#windowMs);
    return this.#view(cur, interval);
  }

  /**
   * Requests per second of the whole instance, from each worker's request counter over the
   * time between that worker's own reports (heartbeat times), not between our scrapes: exact
   * however the scrape and heartbeat clocks drift. A worker with no new report keeps its last rate.
   */
  #workerRates(prev: Extract<Scrape, { ok: true }>, cur: Extract<Scrape, { ok: true }>): number {
    const before = new Map(prev.status.workers.map((w) => [w.pid, w]));
    const rates = new Map<number, number>();
    let total = 0;
    for (const w of cur.status.workers) {
      const p = before.get(w.pid);
      let rate = this.#rates.get(w.pid) ?? 0;
      if (p) {
        const dt = (reportAt(cur, w) - reportAt(prev, p)) / 1000;
        if (dt > 0.05) rate = Math.max(0, w.requests - p.requests) / dt;
        // A worker silent this long is stuck or gone: it serves nothing, whatever it did before.
        else if (w.lastHeartbeatMsAgo > STALE_LIMIT_MS) rate = 0;
      }
      rates.set(w.pid, rate);
      total += rate;
    }
    this.#rates = rates;
    return total;
  }

  /** The request deltas inside the alert window (for summing instances into a total). */
  windowDelta(): { delta: RequestDelta; seconds: number; shed: number } {
    return {
      delta: sumDeltas(this.#intervals.map((r) => r.delta)),
      seconds: sum(this.#intervals, (r) => r.seconds),
      shed: sum(this.#intervals, (r) => r.shed),
    };
  }

  /** The last interval's request delta (for the total row). */
  lastDelta(): { delta: RequestDelta; seconds: number; shed: number } | undefined {
    const r = this.#intervals.at(-1);
    return r && { delta: r.delta, seconds: r.seconds, shed: r.shed };
  }

  #view(cur: Extract<Scrape, { ok: true }>, interval: Rates | undefined): InstanceView {
    const s = cur.status;
    const w = this.windowDelta();
    const source = this.#intervals.some((r) => r.source === "status") ? "status" : "metrics";
    const pools = s.workers.map((x) => x.db?.pool).filter((p) => p !== undefined);
    const sqlites = s.workers.map((x) => x.db?.sqlite).filter((p) => p !== undefined && p !== null);
    const adms = s.workers.map((x) => x.admission).filter((p) => p !== undefined && p !== null);
    return {
      target: this.target,
      at: cur.at,
      up: true,
      error: cur.metricsError ? `metrics unreadable (${cur.metricsError}); rates from /status counters, no latency` : undefined,
      phase: s.instance.phase,
      ready: s.ready,
      version: s.instance.version,
      uptimeS: s.instance.uptimeS,
      interval,
      window: this.#intervals.length ? ratesFrom(w.delta, w.shed, w.seconds, source) : undefined,
      windowIncidents: this.#intervals.length ? this.#intervals.map((r) => r.incidents).reduce(addIncidents, emptyIncidents()) : undefined,
      workers: s.workers.map((x) => ({
        id: x.id,
        pid: x.pid,
        state: x.state,
        uptimeS: x.uptimeS,
        restarts: x.restarts,
        rssBytes: x.rssBytes,
        eventLoopLagMs: x.eventLoopLagMs,
        inflight: x.inflight,
        lastHeartbeatMsAgo: x.lastHeartbeatMsAgo,
      })),
      // The worst worker decides: one worker with a dry pool fails its requests even if the other is idle.
      pool: pools.length
        ? {
            utilization: max(pools, (p) => p.utilization),
            busy: sum(pools, (p) => p.busy),
            max: sum(pools, (p) => p.max),
            waiting: sum(pools, (p) => p.waiting),
            timeoutsTotal: sum(pools, (p) => p.timeouts),
          }
        : undefined,
      sqlite: sqlites.length
        ? {
            walBytes: max(sqlites, (q) => q.walBytes),
            lockTimeoutsTotal: sum(sqlites, (q) => q.lockTimeouts),
            lockWaitsTotal: sum(sqlites, (q) => q.lockWaits),
            writeQueue: sum(sqlites, (q) => q.writeQueue),
          }
        : undefined,
      admission: adms.length
        ? {
            mode: adms[0].mode,
            limit: sum(adms, (q) => q.limit),
            inflight: sum(adms, (q) => q.inflight),
            queued: sum(adms, (q) => q.queued),
            queueDelayMs: max(adms, (q) => q.queueDelayMs),
          }
        : undefined,
      totals: {
        requests: s.counters.requests,
        restarts: s.counters.restarts,
        timeouts: s.counters.timeouts,
        crashes: s.counters.crashes,
        shed: s.counters.shed,
      },
      events: s.events.slice(-EVENTS_KEPT),
      newEvents: this.#takeNewEvents(s),
    };
  }

  #takeNewEvents(s: InstanceStatus): InstanceView["newEvents"] {
    // ISO times sort as strings; the first scrape shows none as new (they are history, not news).
    const seen = this.#seenEvent;
    const fresh = seen === undefined ? [] : s.events.filter((e) => e.time > seen);
    this.#seenEvent = s.events.length ? s.events[s.events.length - 1].time : (seen ?? "");
    return fresh;
  }
}

/** The sum of `f` over `xs` (per-worker figures into one instance figure). */
function sum<T>(xs: readonly T[], f: (x: T) => number): number {
  return xs.reduce((a, x) => a + f(x), 0);
}

/** The largest `f` over a non-empty `xs` (the worst worker decides). */
function max<T>(xs: readonly T[], f: (x: T) => number): number {
  return Math.max(...xs.map(f));
}

/** A status with every counter at zero: the baseline for a process that was replaced. */
function zeroed(s: InstanceStatus): InstanceStatus {
  return { ...s, workers: [], counters: { ...s.counters, requests: 0, status: {}, shed: 0, timeouts: 0, crashes: 0, restarts: 0, recycles: 0, reloads: 0 } };
}
