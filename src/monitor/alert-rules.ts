/**
 * The alert rules: the post-mortem's success metrics judged on one instance's view.
 * Pure; the `for`/`resolveFor` timing lives in alert-state.ts.
 */
import type { Thresholds } from "./thresholds.js";
import type { InstanceView, RuleResult } from "./types.js";

/** Every rule name, in the order alerts are shown. */
export const ALERT_RULES = ["instance-down", "error-rate", "p99-latency", "pool-utilization", "pool-timeouts", "lock-timeouts", "unstable-workers"] as const;

/** One of {@link ALERT_RULES}. */
export type RuleName = (typeof ALERT_RULES)[number];

const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;
const secs = (ms: number) => (ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`);

/**
 * Judges one instance. An instance that is down yields only `instance-down`: its other rules
 * are not judged (no data is not the same as healthy), so their alerts keep their state.
 */
export function evaluateRules(view: InstanceView, t: Thresholds): RuleResult[] {
  const out: RuleResult[] = [];
  const base = { instance: view.target };
  if (t.instanceDown) {
    out.push({
      ...base,
      rule: "instance-down",
      severity: "critical",
      active: !view.up,
      value: view.up ? 0 : 1,
      threshold: 0,
      summary: view.up ? "admin endpoint answers" : `admin endpoint unreachable: ${view.error ?? "no answer"}`,
    });
  }
  if (!view.up) return out;
  const w = view.window;
  const inc = view.windowIncidents;
  const win = w ? secs(w.seconds * 1000) : secs(t.windowMs);
  if (t.errorRate !== undefined) {
    const enough = w !== undefined && w.requests >= t.minRequests && w.errorRatio !== undefined;
    const v = enough ? w.errorRatio : undefined;
    out.push({
      ...base,
      rule: "error-rate",
      severity: "critical",
      active: v !== undefined && v > t.errorRate,
      value: v,
      threshold: t.errorRate,
      summary: enough
        ? `5xx ${pct(w.errorRatio ?? 0)} of ${w.requests} requests in the last ${win} (threshold ${pct(t.errorRate)})`
        : `too few requests to judge (${w?.requests ?? 0} < ${t.minRequests} in the last ${win})`,
    });
  }
  if (t.p99Ms !== undefined) {
    const v = w && w.requests >= 1 ? w.p99Ms : undefined;
    out.push({
      ...base,
      rule: "p99-latency",
      severity: "critical",
      active: v !== undefined && v > t.p99Ms,
      value: v,
      threshold: t.p99Ms,
      summary:
        v !== undefined
          ? `p99 ${Math.round(v)} ms over ${w?.requests} requests in the last ${win} (threshold ${t.p99Ms} ms)`
          : "no latency data (no requests, or /metrics unreadable)",
    });
  }
  if (t.poolUtilization !== undefined && view.pool) {
    const u = view.pool.utilization;
    out.push({
      ...base,
      rule: "pool-utilization",
      severity: "warning",
      active: u > t.poolUtilization,
      value: u,
      threshold: t.poolUtilization,
      summary: `busiest worker's pool at ${pct(u)} (${view.pool.busy}/${view.pool.max} busy in all, ${view.pool.waiting} waiting; threshold ${pct(t.poolUtilization)})`,
    });
  }
  const counted = (rule: RuleName, limit: number | undefined, n: number | undefined, what: string, severity: RuleResult["severity"]) => {
    if (limit === undefined || n === undefined) return;
    out.push({ ...base, rule, severity, active: n > limit, value: n, threshold: limit, summary: `${n} ${what} in the last ${win} (threshold ${limit})` });
  };
  counted("pool-timeouts", t.poolTimeouts, inc?.poolTimeouts, "pool acquire timeouts (POOL_TIMEOUT, answered 503)", "critical");
  counted("lock-timeouts", t.lockTimeouts, inc?.lockTimeouts, "SQLite lock timeouts (DB_LOCKED)", "critical");
  if (t.workerRestarts !== undefined && inc) {
    // The supervisor counts a crash (or a watchdog kill) and then the restart that replaces it:
    // the larger of the two is the number of unplanned replacements, without double counting.
    const n = Math.max(inc.workerRestarts, inc.workerTimeouts + inc.workerCrashes);
    out.push({
      ...base,
      rule: "unstable-workers",
      severity: "critical",
      active: n > t.workerRestarts,
      value: n,
      threshold: t.workerRestarts,
      summary: `${inc.workerRestarts} restarts, ${inc.workerTimeouts} watchdog kills, ${inc.workerCrashes} crashes in the last ${win} (threshold ${t.workerRestarts})`,
    });
  }
  return out;
}
