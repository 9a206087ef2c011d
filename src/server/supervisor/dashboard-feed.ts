/**
 * What the web dashboard draws: once a second the admin endpoint judges itself the way
 * `holdfast monitor` judges it (the monitor's own core, fed in-process: same rates, same
 * alerts) and keeps the result in a ring of per-second samples (15 minutes), so a page that
 * opens or reloads gets its history at once from /history. Samples are computed once and
 * sent to every open page; a page costs the endpoint nothing but the bytes.
 */
import {
  countStatus,
  DEFAULT_THRESHOLDS,
  extractRequestHistogram,
  Monitor,
  parsePrometheusText,
  quantileMs,
  readStatus,
  type AlertTransition,
  type Alert,
} from "../../monitor/index.js";
import { bannerFor, type Banner } from "./dashboard-banner.js";
import type { SupervisorEvent } from "./supervisor-state.js";

/** One second of the instance, as the charts draw it. Rates are per second; undefined = no data. */
export interface DashboardSample {
  /** Unix time, seconds. */
  t: number;
  /** Requests answered 2xx or 3xx. */
  ok: number;
  /** 4xx. */
  c4xx: number;
  /** 5xx other than the shed 503s and the 504s below. */
  c5xx: number;
  /** 503s from admission control (load shed). */
  shed: number;
  /** 504s: the request's deadline passed. */
  c504: number;
  p50Ms: number | undefined;
  p95Ms: number | undefined;
  p99Ms: number | undefined;
  inflight: number;
  /** Sum of the workers' admission limits; undefined when admission control is off. */
  limit: number | undefined;
  /** Pool utilisation of the busiest worker (0..1); undefined without a database. */
  pool: number | undefined;
  /** Callers waiting for a connection, all workers. */
  waiting: number | undefined;
  /** SQLite writes that waited for a lock, and that gave up, per second. */
  lockWaits: number | undefined;
  lockTimeouts: number | undefined;
  /** Per worker slot: event-loop lag p99 (ms) and RSS (bytes). */
  lagMs: Record<string, number>;
  rssBytes: Record<string, number>;
}

/** An alert firing or resolving, kept for the page's timeline. */
export interface DashboardAlertEvent {
  time: string;
  status: AlertTransition["status"];
  alert: Alert;
}

/** The /history document. */
export interface DashboardHistory {
  /** Seconds between samples. */
  stepS: number;
  samples: DashboardSample[];
  events: SupervisorEvent[];
  alerts: DashboardAlertEvent[];
  banner: Banner;
}

/** One second's news for the open pages. */
export interface FeedUpdate {
  sample: DashboardSample;
  banner: Banner;
  /** Alerts that fired or resolved this second. */
  alerts: DashboardAlertEvent[];
  /** The /status document the sample was taken from. */
  status: unknown;
}

/** What the feed reads from the supervisor each second. */
export interface FeedSource {
  /** The /status document (as served). */
  status(): unknown;
  /** The /metrics text (as served). */
  metrics(): Promise<string>;
  /** The supervisor's recent events, oldest first. */
  events(): readonly SupervisorEvent[];
  /** A sample that failed (reported at most once a minute); the feed goes on. */
  onError(err: Error): void;
}

/** 15 minutes of one-second samples. */
const RING = 900;
const TARGET = "local";

function sumSamples(samples: ReturnType<typeof parsePrometheusText>, name: string): number | undefined {
  let total: number | undefined;
  for (const s of samples) if (s.name === name) total = (total ?? 0) + s.value;
  return total;
}

/** Per-second increase of a monotonic counter between two readings (undefined when either is missing). */
function perSecond(prev: number | undefined, cur: number | undefined, seconds: number): number | undefined {
  if (cur === undefined || seconds <= 0) return undefined;
  if (prev === undefined) return 0;
  return Math.max(0, cur - prev) / seconds;
}

/** Samples the instance every second and hands the samples to listeners. */
export class DashboardFeed {
  readonly #source: FeedSource;
  readonly #monitor = new Monitor([TARGET], DEFAULT_THRESHOLDS, 1000);
  readonly #samples: DashboardSample[] = [];
  readonly #alerts: DashboardAlertEvent[] = [];
  readonly #listeners = new Set<(u: FeedUpdate) => void>();
  #banner: Banner = { level: "loading", title: "starting", reasons: [] };
  #firing: Alert[] = [];
  #prevCounters: { at: number; lockWaits: number | undefined; lockTimeouts: number | undefined } | undefined;
  #timer: NodeJS.Timeout | undefined;
  #busy = false;
  #lastErrorAt = 0;

  constructor(source: FeedSource) {
    this.#source = source;
  }

  /** Starts sampling once a second (the timer does not keep the process alive). */
  start(): void {
    if (this.#timer) return;
    // A failed sample must never take the supervisor down (an unhandled rejection would).
    this.#timer = setInterval(() => {
      this.sample().catch((err: Error) => {
        if (Date.now() - this.#lastErrorAt < 60_000) return;
        this.#lastErrorAt = Date.now();
        this.#source.onError(err);
      });
    }, 1000);
    this.#timer.unref();
  }

  /** Stops sampling. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Called with each new sample; returns the function that unsubscribes. */
  subscribe(fn: (u: FeedUpdate) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Everything the page needs to draw at once. */
  history(): DashboardHistory {
    return { stepS: 1, samples: this.#samples, events: [...this.#source.events()], alerts: this.#alerts, banner: this.#banner };
  }

  /** The banner as of the last sample. */
  get banner(): Banner {
    return this.#banner;
  }

  /** Takes one sample now (the timer calls this; tests may too). */
  async sample(now = Date.now()): Promise<DashboardSample | undefined> {
    if (this.#busy) return undefined; // a slow scrape never piles up behind itself
    this.#busy = true;
    try {
      const raw = this.#source.status();
      const status = readStatus(raw);
      const parsed = parsePrometheusText(await this.#source.metrics());
      const tick = this.#monitor.tick([{ ok: true, at: now, status, histogram: extractRequestHistogram(parsed) }], now);
      const view = tick.model.instances[0];
      const rates = view?.interval;
      const last = this.#monitor.lastDelta(0);
      const delta = last?.delta;
      const rps = rates?.requestsPerS ?? 0;
      // The interval's shares of each class, times the measured request rate (what the monitor's columns do).
      const share = (n: number) => (delta && delta.requests > 0 ? (n / delta.requests) * rps : 0);
      const shed = rates?.shedPerS ?? 0;
      const c504 = delta ? share(countStatus(delta, "504")) : 0;
      const c5xxAll = rates?.errors5xxPerS ?? 0;
      const lockWaitsTotal = sumSamples(parsed, "holdfast_sqlite_lock_waits_total");
      const lockTimeoutsTotal = sumSamples(parsed, "holdfast_sqlite_lock_timeouts_total");
      const seconds = this.#prevCounters ? (now - this.#prevCounters.at) / 1000 : 0;
      const workers = status.workers;
      const reporting = workers.filter((w) => w.rssBytes > 0);
      const admissions = workers.map((w) => w.admission).filter((a) => a !== undefined);
      const sample: DashboardSample = {
        t: Math.round(now / 1000),
        ok: delta ? share(countStatus(delta, "2") + countStatus(delta, "3")) : 0,
        c4xx: delta ? share(countStatus(delta, "4")) : 0,
        c5xx: Math.max(0, c5xxAll - shed - c504),
        shed,
        c504,
        p50Ms: rates?.p50Ms,
        p95Ms: delta ? quantileMs(delta, 0.95) : undefined,
        p99Ms: rates?.p99Ms,
        inflight: workers.reduce((a, w) => a + w.inflight, 0),
        limit: admissions.length ? admissions.reduce((a, x) => a + (x?.limit ?? 0), 0) : undefined,
        pool: view?.pool?.utilization,
        waiting: view?.pool?.waiting,
        // Without SQLite the counters exist (at 0) but mean nothing: leave the chart empty.
        lockWaits: view?.sqlite ? perSecond(this.#prevCounters?.lockWaits, lockWaitsTotal, seconds) : undefined,
        lockTimeouts: view?.sqlite ? perSecond(this.#prevCounters?.lockTimeouts, lockTimeoutsTotal, seconds) : undefined,
        // A worker that has not reported yet has no RSS to show (0 would draw a false dip).
        lagMs: Object.fromEntries(reporting.map((w) => [String(w.id), w.eventLoopLagMs])),
        rssBytes: Object.fromEntries(reporting.map((w) => [String(w.id), w.rssBytes])),
      };
      this.#prevCounters = { at: now, lockWaits: lockWaitsTotal, lockTimeouts: lockTimeoutsTotal };
      this.#samples.push(sample);
      if (this.#samples.length > RING) this.#samples.splice(0, this.#samples.length - RING);
      const fresh = tick.transitions.map((tr) => ({ time: new Date(now).toISOString(), status: tr.status, alert: tr.alert }));
      this.#alerts.push(...fresh);
      if (this.#alerts.length > 100) this.#alerts.splice(0, this.#alerts.length - 100);
      this.#firing = tick.model.alerts.filter((a) => a.state === "firing" || a.state === "resolving");
      this.#banner = bannerFor({
        now,
        phase: status.instance.phase,
        ready: status.ready,
        workers,
        events: this.#source.events(),
        firing: this.#firing,
        recent: this.#samples.slice(-10),
      });
      for (const fn of this.#listeners) fn({ sample, banner: this.#banner, alerts: fresh, status: raw });
      return sample;
    } finally {
      this.#busy = false;
    }
  }
}
