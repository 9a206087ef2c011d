/**
 * Pool exhaustion: requests waited for a database connection until the acquire timeout
 * (holdfast pool.timeout, knex "Timeout acquiring a connection", pg "timeout exceeded when trying
 * to connect", HikariCP). Also judged live from the admin endpoint's pool status.
 */
import type { AppRecord, Correlation, Dataset, Finding, Located, Rule } from "../types.js";
import { detectStack } from "../stack.js";
import { appEventFinding, type Explained, max, numbers, sheddingWait } from "./app-event-rule.js";
import { poolWaitFix, speaksHoldfast } from "./stack-fixes.js";
import { NGINX_NEXT_UPSTREAM } from "./proxy-advice.js";

export const poolExhaustion: Rule = {
  id: "pool-exhaustion",
  summary: "Database pool ran dry: requests timed out waiting for a connection.",
  run(data: Dataset, corr: Correlation): Finding[] {
    const fromLogs = appEventFinding(data, corr, {
      id: "pool-exhaustion",
      title: "Database pool exhausted: requests time out waiting for a connection",
      severity: "error",
      events: (e) => e.event === "pool.timeout" || e.event === "pool.leak",
      eventLabel: "pool.timeout",
      detail: (ev) => {
        const m = max(numbers(ev, "max"));
        const w = max(numbers(ev, "waiting"));
        const origins = [...new Set(ev.map((e) => e.record.origin))].join(", ");
        const leaks = ev.filter((e) => e.record.event === "pool.leak").length;
        const warned = ev.filter((e) => e.record.fields.libraryWarnings !== undefined).length;
        const alone = ev.filter((e) => e.record.fields.timeInferred === "next line").length;
        const tarn =
          warned + alone
            ? ` knex's own "Acquire connection error" warnings (tarn's stack, no time of their own) were read with them: ${warned} folded into the app's line for the same failure${alone ? `, ${alone} on their own, timed by the next timed line` : ""}.`
            : "";
        return `${m !== undefined ? `Pool max ${m}, up to ${w ?? "?"} callers waiting. ` : ""}Source: ${origins}.${leaks ? ` ${leaks} pool.leak events: connections held too long.` : ""}${tarn}`;
      },
      fix: (d, ev, explained) => fix(d, ev, explained),
    });
    if (fromLogs.length) return fromLogs;
    const live = livePool(data);
    if (!live) return [];
    return [
      {
        id: "pool-exhaustion",
        title: "Database pool near exhaustion (live)",
        severity: "warning",
        confidence: 0.6,
        explains: 0,
        evidence: { summary: live, counts: {}, samples: [] },
        fix: fix(data),
      },
    ];
  },
};

function livePool(data: Dataset): string | undefined {
  const notes: string[] = [];
  for (const a of data.probes.admin ?? []) {
    for (const w of a.status?.workers ?? []) {
      const p = w.db?.pool;
      if (!p) continue;
      const util = typeof p.utilization === "number" ? p.utilization : p.max ? p.busy / p.max : 0;
      if (util >= 0.8 || (p.waiting ?? 0) > 0 || (p.timeouts ?? 0) > 0)
        notes.push(`${a.url} worker ${w.id ?? "?"}: ${p.busy}/${p.max} busy, ${p.waiting ?? 0} waiting, ${p.timeouts ?? 0} timeouts`);
    }
  }
  return notes.length ? `Pool utilisation ≥ 80 % or callers waiting: ${notes.slice(0, 4).join("; ")}.` : undefined;
}

/**
 * The fix. When the app answered the explained failures itself (503s, not read timeouts), its
 * acquire timeout already sheds before the proxy gives up: the advice keeps it (at the wait the
 * logs show) and points at the pool's size and the slow queries instead of moving the timeout.
 */
function fix(data: Dataset, events: Located<AppRecord>[] = [], explained?: Explained): Finding["fix"] {
  const pg = data.dbUrl?.startsWith("postgres");
  const stack = detectStack(data, events);
  const rt = data.timeouts?.proxyReadTimeout;
  const acquire = rt !== undefined ? Math.max(500, Math.min(2000, rt - Math.max(1000, Math.round(rt * 0.2)))) : 2000;
  const current = sheddingWait(data, events, explained);
  if (current !== undefined) {
    const s = Math.round(current / 100) / 10;
    return {
      summary: `The app already gives up on the pool before the proxy does (it answered these requests itself after ≈ ${s} s${rt !== undefined ? `, below the proxy's ${rt / 1000} s` : ""}): keep that acquire timeout. The pool has fewer connections than the requests that want one at once: make the slow queries faster, hold a connection only for its query (no slow work or outbound calls inside a transaction), and size the pool to what the database sustains (PostgreSQL: pool max × processes × instances < max_connections).`,
      holdfast: speaksHoldfast(stack)
        ? `db: { pool: { acquireTimeout: "${s}s", leakDetectionThreshold: "10s" } }   // keep the wait; raise max only while max × workers × instances < max_connections`
        : undefined,
      stack: poolWaitFix(stack, Math.round(current / 100) * 100, `keep: ≈ ${s} s measured, already below the proxy's timeout`),
    };
  }
  return {
    summary: `Hold connections for less time (no slow work or outbound calls inside a transaction), size the pool to what the database sustains, and shed fast: a short acquire timeout (${acquire / 1000} s${rt !== undefined ? `, below the proxy's ${rt / 1000} s` : ""}) turns a slow 502/504 into a quick 503 with Retry-After.`,
    holdfast: speaksHoldfast(stack)
      ? `db: { pool: { max: ${pg ? 15 : 10}, acquireTimeout: "${acquire / 1000}s", leakDetectionThreshold: "10s" } }   // PostgreSQL: max × workers × instances < max_connections`
      : undefined,
    stack: poolWaitFix(stack, acquire),
    nginx: NGINX_NEXT_UPSTREAM,
  };
}
