/**
 * Prometheus alerting rules for the post-mortem's success metrics, so that a team that runs
 * Prometheus and Alertmanager gets the same alerts as `holdfast monitor` from its own stack.
 * Printed by `holdfast monitor --alert-rules`; thresholds follow `--thresholds`. Checked in
 * the test suite with `promtool check rules` and `promtool test rules`.
 */
import type { Thresholds } from "./thresholds.js";

/** One alerting rule. */
export interface AlertingRule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: "critical" | "warning" };
  annotations: { summary: string; description: string };
}

const REQS = "http_server_request_duration_seconds";
/** RSS growth that pages: more than half again, and at least this much, within an hour. */
const RSS_GROWTH_BYTES = 64 * 1024 * 1024;

function pct(x: number): string {
  return `${Math.round(x * 1000) / 10}%`;
}

/** The rules for `t` (a rule switched off in the thresholds is left out). */
export function alertingRules(t: Thresholds): AlertingRule[] {
  const rules: AlertingRule[] = [
    {
      alert: "HoldfastInstanceDown",
      expr: 'up{job="holdfast"} == 0',
      for: "1m",
      labels: { severity: "critical" },
      annotations: {
        summary: "holdfast admin endpoint {{ $labels.instance }} is not answering scrapes",
        description:
          'Prometheus could not scrape {{ $labels.instance }} for 1 minute: holdfast is down, or its admin endpoint (admin.host/admin.port) is unreachable. Rename job="holdfast" to your scrape job.',
      },
    },
  ];
  if (t.errorRate !== undefined) {
    rules.push({
      alert: "HoldfastHighErrorRate",
      expr: `(sum by (job, instance) (rate(${REQS}_count{http_response_status_code=~"5.."}[1m])) / sum by (job, instance) (rate(${REQS}_count[1m]))) > ${t.errorRate} and on (job, instance) sum by (job, instance) (increase(${REQS}_count[1m])) >= ${t.minRequests}`,
      for: "1m",
      labels: { severity: "critical" },
      annotations: {
        summary: `{{ $labels.instance }}: {{ $value | humanizePercentage }} of requests answered 5xx (threshold ${pct(t.errorRate)})`,
        description:
          "Read holdfast_request_errors_total by code: POOL_TIMEOUT or DB_LOCKED point at the database, OVERLOADED at load shedding, DEADLINE_EXCEEDED at slow handlers. `holdfast doctor` names the cause.",
      },
    });
  }
  if (t.p99Ms !== undefined) {
    const seconds = t.p99Ms / 1000;
    rules.push({
      alert: "HoldfastSlowP99",
      expr: `histogram_quantile(0.99, sum by (job, instance, le) (rate(${REQS}_bucket[1m]))) > ${seconds}`,
      for: "1m",
      labels: { severity: "critical" },
      annotations: {
        summary: `{{ $labels.instance }}: p99 latency {{ $value | humanizeDuration }} (threshold ${seconds}s)`,
        description:
          "Requests are slow: check the pool waiters, SQLite lock waits and event-loop lag panels; a proxy will time out before holdfast's deadline if its timeouts are shorter (`holdfast doctor`).",
      },
    });
  }
  if (t.poolUtilization !== undefined) {
    rules.push({
      alert: "HoldfastPoolSaturated",
      expr: `sum by (job, instance) (holdfast_db_pool_busy) / sum by (job, instance) (holdfast_db_pool_max) > ${t.poolUtilization}`,
      for: "1m",
      labels: { severity: "warning" },
      annotations: {
        summary: `{{ $labels.instance }}: database pool {{ $value | humanizePercentage }} busy for 1 minute (threshold ${pct(t.poolUtilization)})`,
        description:
          "Connections are nearly all lent out (all workers together): callers will soon wait and then time out with 503 POOL_TIMEOUT. Look for slow queries or held transactions before raising db.pool.max.",
      },
    });
  }
  if (t.poolTimeouts !== undefined) {
    rules.push({
      alert: "HoldfastPoolTimeouts",
      expr: `sum by (job, instance) (increase(holdfast_db_pool_timeouts_total[5m])) > ${t.poolTimeouts}`,
      for: "0m",
      labels: { severity: "critical" },
      annotations: {
        summary: "{{ $labels.instance }}: {{ $value | humanize }} database pool acquire timeouts in 5 minutes",
        description: "Requests were answered 503 POOL_TIMEOUT because no connection freed up within their deadline.",
      },
    });
  }
  if (t.lockTimeouts !== undefined) {
    rules.push({
      alert: "HoldfastSqliteLockTimeouts",
      expr: `sum by (job, instance) (increase(holdfast_sqlite_lock_timeouts_total[5m])) > ${t.lockTimeouts}`,
      for: "0m",
      labels: { severity: "critical" },
      annotations: {
        summary: "{{ $labels.instance }}: {{ $value | humanize }} SQLite lock timeouts in 5 minutes",
        description:
          "Writes gave up waiting for the database lock (503 DB_LOCKED): another process or a long transaction holds it. `holdfast doctor` shows who.",
      },
    });
  }
  if (t.workerRestarts !== undefined) {
    rules.push({
      alert: "HoldfastWorkerRestarts",
      expr: `sum by (job, instance) (increase(holdfast_worker_restarts_total[5m])) > ${t.workerRestarts}`,
      for: "0m",
      labels: { severity: "critical" },
      annotations: {
        summary: "{{ $labels.instance }}: workers replaced after a crash or a watchdog kill in 5 minutes: {{ $value | humanize }}",
        description:
          "holdfast_worker_timeouts_total counts watchdog kills (a stuck event loop; the stack is in the worker.timeout log event and on the dashboard), holdfast_worker_crashes_total the crashes.",
      },
    });
  }
  rules.push({
    alert: "HoldfastWorkerMemoryGrowth",
    expr: `process_resident_memory_bytes{worker!=""} > 1.5 * (process_resident_memory_bytes{worker!=""} offset 1h) and (process_resident_memory_bytes{worker!=""} - (process_resident_memory_bytes{worker!=""} offset 1h)) > ${RSS_GROWTH_BYTES}`,
    for: "15m",
    labels: { severity: "warning" },
    annotations: {
      summary: "{{ $labels.instance }} worker {{ $labels.worker }}: RSS {{ $value | humanize1024 }}B, grown by more than half in an hour",
      description:
        "A worker's memory keeps growing: a leak, or a cache without bounds. recycle.maxRss replaces a worker past a size; a heap snapshot finds the cause.",
    },
  });
  return rules;
}

/** YAML double-quoted scalar: JSON's string escapes are valid YAML. */
const q = (s: string) => JSON.stringify(s);

/** The rules as a Prometheus rule file (YAML). */
export function alertingRulesYaml(t: Thresholds): string {
  const lines = ["# Prometheus alerting rules for holdfast (holdfast monitor --alert-rules).", "groups:", "  - name: holdfast", "    rules:"];
  for (const r of alertingRules(t)) {
    lines.push(
      `      - alert: ${r.alert}`,
      `        expr: ${q(r.expr)}`,
      `        for: ${r.for}`,
      "        labels:",
      `          severity: ${r.labels.severity}`,
      "        annotations:",
    );
    lines.push(`          summary: ${q(r.annotations.summary)}`, `          description: ${q(r.annotations.description)}`);
  }
  return `${lines.join("\n")}\n`;
}
