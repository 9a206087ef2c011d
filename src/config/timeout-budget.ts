/**
 * The timeout budget: the rules that check that the timeouts of proxy, app, pool and
 * database agree. Used at start-up (warnings) and by the doctor (findings, with the
 * proxy's values read from its config). Pure: values in, verdicts out.
 *
 * The order that must hold, outermost to innermost:
 *   proxy idle timeout  < app keep-alive < app headers timeout      (the proxy closes idle sockets first)
 *   db statement / pool acquire ≤ request deadline < proxy read timeout (the app answers before the proxy gives up)
 *   request deadline < worker heartbeat timeout is NOT required, but a heartbeat far below the
 *   deadline kills workers that are merely busy.
 */
import { formatDuration } from "./duration.js";

/** Every timeout that matters, in milliseconds; undefined when that layer is unknown. */
export interface TimeoutLayers {
  /** Proxy idle timeout for upstream keep-alive sockets (nginx `keepalive_timeout` in upstream, ALB idle timeout). */
  proxyIdleTimeout?: number | undefined;
  /** Proxy read timeout (nginx `proxy_read_timeout`, HAProxy `timeout server`). */
  proxyReadTimeout?: number | undefined;
  /** App keep-alive timeout (Node `keepAliveTimeout`). */
  keepAlive?: number | undefined;
  /** App headers timeout (Node `headersTimeout`). */
  headers?: number | undefined;
  /** Request deadline. */
  deadline?: number | undefined;
  /** Worker heartbeat timeout. */
  heartbeat?: number | undefined;
  /** Graceful shutdown timeout. */
  graceful?: number | undefined;
  /** Pool acquire timeout. */
  acquireTimeout?: number | undefined;
  /** SQLite busy timeout. */
  busyTimeout?: number | undefined;
  /** Database statement timeout (0 = none). */
  statementTimeout?: number | undefined;
  /** Longest a cache miss can wait on Redis before loading itself: command timeout + lock wait (undefined for the memory cache). */
  cacheWait?: number | undefined;
}

/** One verdict of the budget. */
export interface BudgetViolation {
  /** Stable id, e.g. "keepalive-below-proxy-idle". */
  id: string;
  severity: "error" | "warning";
  /** What is wrong, with the numbers. */
  message: string;
  /** What to change, as config lines. */
  fix: string;
}

const d = formatDuration;

/** Checks the layers against each other; returns every violation found (empty when they agree). */
export function checkTimeoutBudget(t: TimeoutLayers): BudgetViolation[] {
  const out: BudgetViolation[] = [];
  if (t.proxyIdleTimeout !== undefined && t.keepAlive !== undefined && t.keepAlive <= t.proxyIdleTimeout) {
    out.push({
      id: "keepalive-below-proxy-idle",
      severity: "error",
      message: `App keep-alive timeout ${d(t.keepAlive)} is not above the proxy's upstream idle timeout ${d(t.proxyIdleTimeout)}: the app can close an idle socket at the moment the proxy reuses it, and that request fails with 502 (keep-alive race).`,
      fix: `timeouts: { keepAlive: "${d(t.proxyIdleTimeout + 5000)}", headers: "${d(t.proxyIdleTimeout + 6000)}" }  // or lower the proxy's keepalive_timeout below ${d(t.keepAlive)}`,
    });
  }
  if (t.keepAlive !== undefined && t.headers !== undefined && t.headers <= t.keepAlive) {
    out.push({
      id: "headers-not-above-keepalive",
      severity: "warning",
      message: `Headers timeout ${d(t.headers)} is not above keep-alive ${d(t.keepAlive)}: Node may drop a keep-alive socket while a request on it is starting.`,
      fix: `timeouts: { headers: "${d(t.keepAlive + 1000)}" }`,
    });
  }
  if (t.proxyReadTimeout !== undefined && t.deadline !== undefined && t.deadline > 0 && t.deadline >= t.proxyReadTimeout) {
    out.push({
      id: "deadline-not-below-proxy-read",
      severity: "error",
      message: `Request deadline ${d(t.deadline)} is not below the proxy read timeout ${d(t.proxyReadTimeout)}: the proxy gives up first and the client gets a 504/502 from the proxy instead of a clean answer from the app, while the app keeps working for nobody.`,
      fix: `timeouts: { deadline: "${d(Math.max(1000, t.proxyReadTimeout - Math.max(1000, Math.round(t.proxyReadTimeout * 0.1))))}" }  // or raise proxy_read_timeout above ${d(t.deadline)}`,
    });
  }
  if (t.deadline !== undefined && t.deadline > 0 && t.acquireTimeout !== undefined && t.acquireTimeout >= t.deadline) {
    out.push({
      id: "acquire-not-below-deadline",
      severity: "warning",
      message: `Pool acquire timeout ${d(t.acquireTimeout)} is not below the request deadline ${d(t.deadline)}: a request can spend its whole budget queueing for a connection. holdfast caps each wait at the remaining deadline, but a shorter acquire timeout sheds faster under exhaustion.`,
      fix: `db: { pool: { acquireTimeout: "${d(Math.max(100, Math.round(t.deadline / 6)))}" } }`,
    });
  }
  if (t.deadline !== undefined && t.deadline > 0 && t.busyTimeout !== undefined && t.busyTimeout >= t.deadline) {
    out.push({
      id: "busy-timeout-not-below-deadline",
      severity: "warning",
      message: `SQLite busy timeout ${d(t.busyTimeout)} is not below the request deadline ${d(t.deadline)}: a locked write can use the whole request budget.`,
      fix: `db: { sqlite: { busyTimeout: "${d(Math.max(100, Math.round(t.deadline / 6)))}" } }`,
    });
  }
  if (t.statementTimeout !== undefined && t.statementTimeout > 0 && t.deadline !== undefined && t.deadline > 0 && t.statementTimeout > t.deadline) {
    out.push({
      id: "statement-timeout-above-deadline",
      severity: "warning",
      message: `Statement timeout ${d(t.statementTimeout)} is above the request deadline ${d(t.deadline)}; the deadline will cancel statements first, so this setting never acts.`,
      fix: `db: { statementTimeout: "${d(t.deadline)}" }`,
    });
  }
  if (t.cacheWait !== undefined && t.deadline !== undefined && t.deadline > 0 && t.cacheWait * 2 > t.deadline) {
    out.push({
      id: "cache-wait-near-deadline",
      severity: "warning",
      message: `A cache miss can wait ${d(t.cacheWait)} on Redis (cache.commandTimeout + cache.lockWait) before its loader runs, more than half the request deadline ${d(t.deadline)}: a slow Redis leaves the loader too little time.`,
      fix: `cache: { commandTimeout: "250ms", lockWait: "${d(Math.max(100, Math.round(t.deadline / 10)))}" }`,
    });
  }
  if (t.heartbeat !== undefined && t.heartbeat > 0 && t.heartbeat < 2000) {
    out.push({
      id: "heartbeat-too-short",
      severity: "warning",
      message: `Worker heartbeat timeout ${d(t.heartbeat)} is very short: a garbage-collection pause or a slow synchronous JSON.parse could get a healthy worker killed.`,
      fix: `timeouts: { heartbeat: "30s" }`,
    });
  }
  if (t.proxyReadTimeout !== undefined && t.heartbeat !== undefined && t.heartbeat > t.proxyReadTimeout) {
    out.push({
      id: "heartbeat-above-proxy-read",
      severity: "warning",
      message: `Worker heartbeat timeout ${d(t.heartbeat)} is above the proxy read timeout ${d(t.proxyReadTimeout)}: a stuck worker keeps its sockets until after the proxy has already answered 504 for them.`,
      fix: `timeouts: { heartbeat: "${d(Math.max(2000, t.proxyReadTimeout - 1000))}" }`,
    });
  }
  return out;
}
