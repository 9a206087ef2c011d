/**
 * The counts of workers that have exited, kept by the supervisor so that cluster counters
 * stay monotonic (a Prometheus user's rate() sees no reset on a reload or a restart). Only
 * counters and histograms are carried: a gauge of a dead process means nothing.
 */
import type client from "prom-client";
import type { MetricsSnapshot } from "./metrics.js";

type Metric = MetricsSnapshot[number];
type Value = client.MetricValueWithName<string>;

/** Same key as prom-client's aggregator uses: metric name plus sorted labels. */
function valueKey(v: Value): string {
  const labels = Object.entries(v.labels ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, x]) => `${k}=${String(x)}`)
    .join(",");
  return `${v.metricName ?? ""}{${labels}}`;
}

/** Running sums of the counters and histograms of exited workers. */
export class CarriedTotals {
  readonly #metrics = new Map<string, { meta: Metric; values: Map<string, Value> }>();

  /** Adds an exited worker's last snapshot. */
  add(snapshot: MetricsSnapshot): void {
    for (const m of snapshot) {
      const type = String(m.type);
      if (type !== "counter" && type !== "histogram") continue;
      let held = this.#metrics.get(m.name);
      if (!held) {
        held = { meta: m, values: new Map() };
        this.#metrics.set(m.name, held);
      }
      for (const v of m.values as Value[]) {
        const k = valueKey(v);
        const prev = held.values.get(k);
        if (prev) prev.value += v.value;
        else held.values.set(k, { labels: { ...v.labels }, value: v.value, ...(v.metricName ? { metricName: v.metricName } : {}) });
      }
    }
  }

  /** The carried sums as one more snapshot to aggregate with the live workers' (sum aggregator). */
  snapshot(): MetricsSnapshot {
    return [...this.#metrics.values()].map(
      ({ meta, values }) =>
        ({
          name: meta.name,
          help: meta.help,
          type: meta.type,
          aggregator: "sum",
          values: [...values.values()].map((v) => ({ ...v, labels: { ...v.labels } })),
        }) as Metric,
    );
  }
}
