/**
 * A Grafana dashboard with the web dashboard's panels, over Prometheus: printed by
 * `holdfast monitor --grafana`, imported as is (Dashboards → New → Import). The Prometheus
 * data source is a variable, so the same JSON works in any Grafana; `instance` picks the
 * holdfast instances to show.
 */

/** One panel: title, unit and its queries (`$sel` is replaced by the instance selector). */
interface PanelSpec {
  title: string;
  description: string;
  unit: string;
  targets: { expr: string; legend: string }[];
  min?: number;
  max?: number;
  stack?: boolean;
}

const REQS = "http_server_request_duration_seconds";
const SEL = '{instance=~"$instance"}';
const RATE = "$__rate_interval";

const PANELS: PanelSpec[] = [
  {
    title: "Requests/s by status",
    description: "Answers per second by status class; 503 shed = admission control, 504 = deadline passed.",
    unit: "reqps",
    stack: true,
    targets: [
      { expr: `sum(rate(${REQS}_count{instance=~"$instance",http_response_status_code=~"[23].."}[${RATE}]))`, legend: "2xx/3xx" },
      { expr: `sum(rate(${REQS}_count{instance=~"$instance",http_response_status_code=~"4.."}[${RATE}]))`, legend: "4xx" },
      {
        // A counter with labels has no series until its first shed: `or vector(0)` keeps the difference.
        expr: `sum(rate(${REQS}_count{instance=~"$instance",http_response_status_code=~"5..",http_response_status_code!="504"}[${RATE}])) - (sum(rate(holdfast_shed_requests_total${SEL}[${RATE}])) or vector(0))`,
        legend: "5xx",
      },
      { expr: `sum(rate(holdfast_shed_requests_total${SEL}[${RATE}]))`, legend: "503 shed" },
      { expr: `sum(rate(${REQS}_count{instance=~"$instance",http_response_status_code="504"}[${RATE}]))`, legend: "504" },
    ],
  },
  {
    title: "Latency",
    description: "p50, p95 and p99 of request duration (success metric: p99 < 5 s).",
    unit: "s",
    targets: [0.5, 0.95, 0.99].map((q) => ({ expr: `histogram_quantile(${q}, sum by (le) (rate(${REQS}_bucket${SEL}[${RATE}])))`, legend: `p${q * 100}` })),
  },
  {
    title: "In flight and admission limit",
    description: "Requests being handled, and the concurrency limit admission control allows (all workers).",
    unit: "short",
    targets: [
      { expr: `sum(http_server_active_requests${SEL})`, legend: "in flight" },
      { expr: `sum(holdfast_admission_limit${SEL})`, legend: "admission limit" },
      { expr: `sum(holdfast_admission_queue_length${SEL})`, legend: "queued" },
    ],
  },
  {
    title: "Database pool",
    description: "Connections busy / max (all workers; success metric: < 80 %) and callers waiting.",
    unit: "percentunit",
    min: 0,
    targets: [
      { expr: `sum(holdfast_db_pool_busy${SEL}) / sum(holdfast_db_pool_max${SEL})`, legend: "utilisation" },
      { expr: `sum(holdfast_db_pool_waiting${SEL})`, legend: "waiting" },
      { expr: `sum(rate(holdfast_db_pool_timeouts_total${SEL}[${RATE}]))`, legend: "timeouts/s" },
    ],
  },
  {
    title: "SQLite locks",
    description: "Writes that waited for a lock, and that gave up (503 DB_LOCKED), per second (success metric: no lock timeouts).",
    unit: "short",
    targets: [
      { expr: `sum(rate(holdfast_sqlite_lock_waits_total${SEL}[${RATE}]))`, legend: "lock waits/s" },
      { expr: `sum(rate(holdfast_sqlite_lock_timeouts_total${SEL}[${RATE}]))`, legend: "lock timeouts/s" },
    ],
  },
  {
    title: "Event-loop lag per worker",
    description: "p99 event-loop delay of each worker; a lag near timeouts.heartbeat gets the worker killed by the watchdog.",
    unit: "s",
    targets: [{ expr: `nodejs_eventloop_lag_p99_seconds${SEL}`, legend: "{{instance}} worker {{worker}}" }],
  },
  {
    title: "Memory (RSS) per worker",
    description: "Resident memory of each worker (recycle.maxRss replaces one past a size).",
    unit: "bytes",
    targets: [{ expr: `process_resident_memory_bytes${SEL}`, legend: "{{instance}} worker {{worker}}" }],
  },
  {
    title: "Restarts, watchdog kills, reloads",
    description: "Workers replaced after a crash or a watchdog kill, watchdog kills alone, and rolling reloads (success metric: stable workers).",
    unit: "short",
    targets: [
      { expr: `sum(increase(holdfast_worker_restarts_total${SEL}[${RATE}]))`, legend: "restarts" },
      { expr: `sum(increase(holdfast_worker_timeouts_total${SEL}[${RATE}]))`, legend: "watchdog kills" },
      { expr: `sum(increase(holdfast_reloads_total${SEL}[${RATE}]))`, legend: "reloads" },
    ],
  },
];

/** Every PromQL expression of the dashboard (tests check them with promtool). */
export function grafanaExpressions(): string[] {
  return PANELS.flatMap((p) => p.targets.map((t) => t.expr));
}

/** The dashboard as Grafana's JSON model. */
export function grafanaDashboard(): Record<string, unknown> {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, filled in by Grafana
  const ds = { type: "prometheus", uid: "${datasource}" };
  const panels = PANELS.map((p, i) => ({
    id: i + 1,
    type: "timeseries",
    title: p.title,
    description: p.description,
    datasource: ds,
    gridPos: { x: (i % 2) * 12, y: Math.floor(i / 2) * 8, w: 12, h: 8 },
    fieldConfig: {
      defaults: {
        unit: p.unit,
        ...(p.min !== undefined ? { min: p.min } : {}),
        ...(p.max !== undefined ? { max: p.max } : {}),
        custom: { lineWidth: 1, fillOpacity: p.stack ? 20 : 0, stacking: { mode: p.stack ? "normal" : "none" }, spanNulls: false },
      },
      overrides: [
        // Waiters and timeouts are counts, not shares, on the pool panel.
        ...(p.unit === "percentunit"
          ? [
              {
                matcher: { id: "byRegexp", options: "waiting|timeouts/s" },
                properties: [
                  { id: "unit", value: "short" },
                  { id: "custom.axisPlacement", value: "right" },
                ],
              },
            ]
          : []),
      ],
    },
    options: { legend: { displayMode: "table", placement: "bottom", calcs: ["lastNotNull", "max"] }, tooltip: { mode: "multi" } },
    targets: p.targets.map((t, j) => ({ refId: String.fromCharCode(65 + j), datasource: ds, expr: t.expr, legendFormat: t.legend, range: true })),
  }));
  return {
    id: null,
    uid: "holdfast",
    title: "holdfast",
    description: "holdfast instances: requests, latency, admission, database pool, SQLite locks, workers (holdfast monitor --grafana).",
    tags: ["holdfast"],
    timezone: "browser",
    editable: true,
    refresh: "10s",
    time: { from: "now-1h", to: "now" },
    schemaVersion: 39,
    version: 1,
    templating: {
      list: [
        { name: "datasource", label: "Prometheus", type: "datasource", query: "prometheus", current: {}, hide: 0 },
        {
          name: "instance",
          label: "instance",
          type: "query",
          datasource: ds,
          query: { query: "label_values(holdfast_workers, instance)", refId: "instances" },
          definition: "label_values(holdfast_workers, instance)",
          multi: true,
          includeAll: true,
          allValue: ".*",
          current: {},
          refresh: 2,
          sort: 1,
        },
      ],
    },
    annotations: {
      list: [
        {
          name: "Reloads and restarts",
          datasource: ds,
          enable: true,
          iconColor: "orange",
          expr: `changes(holdfast_worker_restarts_total${SEL}[1m]) > 0 or changes(holdfast_reloads_total${SEL}[1m]) > 0`,
          step: "60s",
          titleFormat: "restart or reload",
        },
      ],
    },
    panels,
  };
}
