/**
 * Prometheus metrics (prom-client) with OpenTelemetry-style names. Workers record into
 * their process's registry and ship a JSON snapshot with each heartbeat; the supervisor
 * aggregates the latest snapshots, so one stuck worker never blocks a scrape (prom-client's
 * own clusterMetrics() waits for every worker and fails as a whole on timeout).
 */
import client from "prom-client";

/** Latency buckets in seconds, dense around typical web latencies and out to proxy timeouts. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Per-worker HTTP metrics. */
export class WorkerMetrics {
  readonly registry: client.Registry;
  readonly duration: client.Histogram<"http_request_method" | "http_response_status_code">;
  readonly active: client.Gauge;
  readonly shed: client.Counter<"reason">;
  readonly deadlines: client.Counter;
  readonly errors: client.Counter<"code">;

  constructor(registry: client.Registry = client.register) {
    this.registry = registry;
    this.duration = new client.Histogram({
      name: "http_server_request_duration_seconds",
      help: "Duration of HTTP server requests, from the request's arrival to the end of its response.",
      labelNames: ["http_request_method", "http_response_status_code"],
      buckets: DURATION_BUCKETS,
      registers: [registry],
    });
    this.active = new client.Gauge({
      name: "http_server_active_requests",
      help: "Requests being handled right now.",
      registers: [registry],
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

  /** Adds a gauge whose value is read at collection time (pool, admission). */
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
  snapshot(): Promise<client.MetricObjectWithValues<client.MetricValue<string>>[]> {
    return this.registry.getMetricsAsJSON();
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
