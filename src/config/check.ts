/** Semantic checks across keys that a per-key schema cannot express. */
import { isIP } from "node:net";
import type { Config } from "./schema.js";
import { sqliteUrlProblem } from "./sqlite-url.js";
import { type BudgetViolation, checkTimeoutBudget, type TimeoutLayers } from "./timeout-budget.js";

/** The timeout layers declared by a holdfast config. */
export function layersFromConfig(c: Config): TimeoutLayers {
  const isSqlite = c.db.url.startsWith("sqlite:");
  return {
    proxyIdleTimeout: c.proxy.idleTimeout,
    proxyReadTimeout: c.proxy.readTimeout,
    keepAlive: c.timeouts.keepAlive,
    headers: c.timeouts.headers,
    deadline: c.timeouts.deadline,
    heartbeat: c.timeouts.heartbeat,
    graceful: c.timeouts.graceful,
    acquireTimeout: c.db.pool.acquireTimeout,
    busyTimeout: isSqlite ? c.db.sqlite.busyTimeout : undefined,
    statementTimeout: c.db.statementTimeout,
    cacheWait: c.cache.url.startsWith("redis") ? c.cache.commandTimeout + c.cache.lockWait : undefined,
  };
}

/** True for 127.0.0.0/8, ::1 and "localhost". */
export function isLoopback(host: string): boolean {
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return host === "::1";
}

/** Errors (refuse to start) and warnings (start, but say so) for a parsed config. */
export function checkConfig(c: Config): { errors: string[]; warnings: BudgetViolation[] } {
  const errs: string[] = [];
  if (c.admin.enabled && !isLoopback(c.admin.host) && !c.admin.token) {
    errs.push(
      `admin.host = ${JSON.stringify(c.admin.host)} is not a loopback address and admin.token is not set: the admin endpoint would expose /status and /metrics to the network without authentication. Set admin.token (or HOLDFAST_ADMIN_TOKEN) to a secret of at least 16 characters, or bind admin.host to 127.0.0.1.`,
    );
  }
  if (c.admission.minLimit > c.admission.maxLimit) {
    errs.push(`admission.minLimit (${c.admission.minLimit}) is above admission.maxLimit (${c.admission.maxLimit}); set minLimit ≤ maxLimit.`);
  }
  if (c.db.pool.min > c.db.pool.max) {
    errs.push(`db.pool.min (${c.db.pool.min}) is above db.pool.max (${c.db.pool.max}); set min ≤ max.`);
  }
  const sqlite = sqliteUrlProblem(c.db.url, c.workers);
  if (sqlite) errs.push(sqlite);
  return { errors: errs, warnings: checkTimeoutBudget(layersFromConfig(c)) };
}
