/**
 * Prometheus metrics (prom-client) with OpenTelemetry-style names. Workers record into
 * their process's registry and ship a JSON snapshot with each heartbeat; the supervisor
 * aggregates the latest snapshots, so one stuck worker never blocks a scrape (prom-client's
 * own clusterMetrics() waits for every worker and fails as a whole on timeout).
 */
import client from "prom-client";

/** Latency buckets in seconds, dense around typical web latencies and out to proxy timeouts. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * The request-duration histogram, kept out of prom-client on the hot path: one array of
 * bucket counts per (method, status) pair, turned into prom-client's JSON form only when a
 * heartbeat ships the snapshot. prom-client's observe() hashes labels on every call.
 */
interface Series {
  method: string;
  status: number;
  buckets: Float64Array;
  sum: number;
  count: number;
}

class DurationHistogram {
  readonly #series: Series[] = [];
  // method → status → series: two lookups on short keys instead of hashing a fresh "GET 200" string per request.
  readonly #index = new Map<string, Map<number, Series>>();

  observe(method: string, status: number, seconds: number): void {
    let byStatus = this.#index.get(method);
    if (!byStatus) {
      byStatus = new Map();
      this.#index.set(method, byStatus);
    }
    let s = byStatus.get(status);
    if (!s) {
      s = { method, status, buckets: new Float64Array(DURATION_BUCKETS.length), sum: 0, count: 0 };
      byStatus.set(status, s);
      this.#series.push(s);
    }
    s.sum += seconds;
    s.count++;
    for (let i = 0; i < DURATION_BUCKETS.length; i++) {
      if (seconds <= (DURATION_BUCKETS[i] as number)) {
        (s.buckets as Float64Array)[i] = ((s.buckets as Float64Array)[i] as number) + 1;
        break;
      }
    }
  }

  toJSON(): MetricsSnapshot[number] {
    const name = "http_server_request_duration_seconds";
    const values: client.MetricValueWithName<string>[] = [];
    for (const s of this.#series) {
      const labels = { http_request_method: s.method, http_response_status_code: s.status };
      let cumulative = 0;
      DURATION_BUCKETS.forEach((le, i) => {
        cumulative += s.buckets[i] as number;
        values.push({ labels: { ...labels, le }, value: cumulative, metricName: `${name}_bucket` });
      });
      values.push({ labels: { ...labels, le: "+Inf" }, value: s.count, metricName: `${name}_bucket` });
      values.push({ labels, value: s.sum, metricName: `${name}_sum` });
      values.push({ labels, value: s.count, metricName: `${name}_count` });
    }
    return {
      name,
      help: "Duration of HTTP server requests, from the request's arrival to the end of its response.",
      type: "histogram" as unknown as client.MetricType,
      values,
      aggregator: "sum",
    } as MetricsSnapshot[number];
  }
}

/** A gauge read from a status object: name, help, and how to pick its value. */
export type StatusGauge<S> = readonly [name: string, help: string, pick: (s: S) => number | undefined];

/** Options of {@link WorkerMetrics}. */
export interface WorkerMetricsOptions {
  /** Registry for holdfast's own metrics. Default: prom-client's global one, so an app's own metrics ship too. */
  registry?: client.Registry;
  /**
   * Worker slot: when set, prom-client's default process_* and nodejs_* metrics are collected
   * with a `worker` label of this value (summing RSS or CPU over workers hides the one that leaks).
   */
  workerId?: number;
}

/** Per-worker HTTP metrics. */
export class WorkerMetrics {
  readonly registry: client.Registry;
  /** prom-client's default metrics, labelled by worker; undefined without a worker id. */
  readonly #defaults: client.Registry | undefined;
  readonly #perScrape = new WeakMap<() => unknown, () => unknown>();
  readonly duration = new DurationHistogram();
  /** Read at snapshot time (the in-flight count), so requests never touch a gauge. */
  activeRequests: () => number = () => 0;
  readonly shed: client.Counter<"reason">;
  readonly deadlines: client.Counter;
  readonly errors: client.Counter<"code">;

  constructor(o: WorkerMetricsOptions = {}) {
    this.registry = o.registry ?? client.register;
    const registry = this.registry;
    if (o.workerId !== undefined) {
      this.#defaults = new client.Registry();
      client.collectDefaultMetrics({ register: this.#defaults, labels: { worker: String(o.workerId) } });
    }
    const self = this;
    new client.Gauge({
      name: "http_server_active_requests",
      help: "Requests being handled right now.",
      registers: [registry],
      collect() {
        this.set(self.activeRequests());
      },
    });
    this.shed = new client.Counter({
      name: "holdfast_shed_requests_total",
      help: "Requests answered 503 OVERLOADED by admission control, by reason.",
      labelNames: ["reason"],
      registers: [registry],
    });
    this.deadlines = new client.Counter({
      name: "holdfast_deadline_exceeded_total",
      help: "Requests answered 504 because their deadline passed.",
      registers: [registry],
    });
    this.errors = new client.Counter({
      name: "holdfast_request_errors_total",
      help: "Requests that ended in an error answered by holdfast, by error code.",
      labelNames: ["code"],
      registers: [registry],
    });
  }

  /**
   * Adds one gauge per entry, each read from `read()` at scrape time (nothing on the request
   * path). A gauge whose value is undefined or not finite (nothing opened yet) is left unset.
   */
  /**
   * `read` shared by every metric of one scrape: each gauge's collect() reads the status, and a
   * database status sorts four latency windows and stats the WAL, so 25 gauges made 25 reads per
   * heartbeat (every 400 ms with a 4 s heartbeat timeout), all in one go on the event loop.
   * prom-client calls every collect() in one synchronous pass (registry.metrics() and
   * getMetricsAsJSON() start all get()s before awaiting any), so one read serves until the next
   * microtask and a later scrape reads afresh. The same function gets the same wrapper, so the
   * gauges and counters of one status share it too.
   */
  perScrape<S>(read: () => S | undefined): () => S | undefined {
    const known = this.#perScrape.get(read);
    if (known) return known as () => S | undefined;
    let fresh = false;
    let value: S | undefined;
    const forget = () => {
      fresh = false;
      value = undefined;
    };
    const shared = (): S | undefined => {
      if (!fresh) {
        value = read();
        fresh = true;
        queueMicrotask(forget);
      }
      return value;
    };
    this.#perScrape.set(read, shared);
    this.#perScrape.set(shared, shared);
    return shared;
  }

  addStatusGauges<S>(read: () => S | undefined, gauges: readonly StatusGauge<S>[]): void {
    read = this.perScrape(read);
    for (const [name, help, pick] of gauges) {
      this.addGauge(name, help, [], (gauge) => {
        const s = read();
        const v = s === undefined ? undefined : pick(s);
        if (v !== undefined && Number.isFinite(v)) gauge.set(v);
      });
    }
  }

  /**
   * Adds one counter per entry for figures a status object keeps as running totals (hits,
   * timeouts): read at scrape time, the counter grows by the increase since the last read. A
   * total that went down (its source was reopened) counts from zero again, so the counter
   * itself never goes down.
   */
  addStatusCounters<S>(read: () => S | undefined, counters: readonly StatusGauge<S>[]): void {
    read = this.perScrape(read);
    for (const [name, help, pick] of counters) {
      let last = 0;
      new client.Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          const s = read();
          const v = s === undefined ? undefined : pick(s);
          if (v === undefined || !Number.isFinite(v)) return;
          const increase = v >= last ? v - last : v;
          last = v;
          if (increase > 0) this.inc(increase);
        },
      });
    }
  }

  /** Adds a gauge whose value is read at collection time. */
  addGauge(name: string, help: string, labelNames: string[], collect: (g: client.Gauge<string>) => void): void {
    new client.Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        collect(this);
      },
    });
  }

  /** JSON snapshot shipped to the supervisor. */
  async snapshot(): Promise<MetricsSnapshot> {
    const json = (await this.registry.getMetricsAsJSON()) as MetricsSnapshot;
    json.push(this.duration.toJSON());
    if (this.#defaults) {
      for (const m of (await this.#defaults.getMetricsAsJSON()) as MetricsSnapshot) {
        // nodejs_active_{handles,requests,resources}_total are gauges named like counters
        // (promtool rejects them); sum() of the by-type gauges of the same name gives them.
        if (String(m.type) === "gauge" && m.name.endsWith("_total")) continue;
        // Each value carries its own worker label, so summing across workers keeps them apart
        // (prom-client's own choices, e.g. 'omit' for the start time, assume unlabelled copies).
        json.push({ ...m, aggregator: "sum" } as MetricsSnapshot[number]);
      }
    }
    return json;
  }
}

/** A JSON snapshot as produced by {@link WorkerMetrics.snapshot}. */
export type MetricsSnapshot = client.MetricObjectWithValues<client.MetricValue<string>>[];

/** Supervisor-side: aggregates the workers' latest snapshots plus its own registry into Prometheus text. */
export async function aggregateMetrics(snapshots: MetricsSnapshot[], own: client.Registry): Promise<string> {
  const ownJson = (await own.getMetricsAsJSON()) as MetricsSnapshot;
  const agg = client.AggregatorRegistry.aggregate([...snapshots, ownJson]);
  return agg.metrics();
}

/** The Prometheus text content type. */
export const METRICS_CONTENT_TYPE = client.register.contentType;

export { client as promClient };
