/**
 * The app protecting itself: admission control shed requests (503 OVERLOADED + Retry-After) or
 * requests ran out of their deadline (the app's own 504). Both are holdfast doing its job; the
 * finding says how many failures they account for and what capacity or latency to fix.
 */
import { claim } from "../correlate.js";
import type { Correlation, Dataset, Finding, Rule } from "../types.js";
import { between, failureWindow, ofTotal, samples, statusCounts } from "./evidence.js";
import { appEventFinding, appEventRule } from "./app-event-rule.js";
import { NGINX_NEXT_UPSTREAM } from "./proxy-advice.js";

export const loadShed: Rule = {
  id: "load-shed",
  summary: "Admission control shed requests (fast 503 + Retry-After) because the service was over capacity.",
  run(data: Dataset, corr: Correlation): Finding[] {
    const live: string[] = [];
    for (const a of data.probes.admin ?? []) {
      const shed = a.status?.counters?.shed;
      const queued = (a.status?.workers ?? []).reduce((n, w) => n + (w.admission?.queued ?? 0), 0);
      if ((typeof shed === "number" && shed > 0) || queued > 0) live.push(`${a.url}: ${shed ?? 0} shed since start, ${queued} queued now`);
    }
    const fix = {
      summary: "Add capacity (workers, instances) or make the slow paths cheaper; mark bulk routes sheddable so interactive ones keep their slots.",
      holdfast: `workers: "auto"\nadmission: { mode: "adaptive", routes: [{ path: "/api/export", priority: "sheddable" }] }`,
      nginx: NGINX_NEXT_UPSTREAM,
    };
    const found = appEventFinding(data, corr, {
      id: "load-shed",
      title: "Over capacity: admission control shed requests",
      severity: "warning",
      events: (e) => e.event === "shed",
      eventLabel: "shed",
      detail: (ev) => {
        const reasons = new Map<string, number>();
        for (const e of ev) reasons.set(String(e.record.fields.reason ?? "?"), (reasons.get(String(e.record.fields.reason ?? "?")) ?? 0) + 1);
        return `Reasons: ${[...reasons].map(([r, n]) => `${r} ${n}`).join(", ")}.${live.length ? ` Live: ${live.join("; ")}.` : ""} These were fast 503s with Retry-After, not slow 502s.`;
      },
      fix,
    });
    if (found.length || !live.length) return found;
    return [
      {
        id: "load-shed",
        title: "Over capacity: admission control is shedding (live)",
        severity: "warning",
        confidence: 0.7,
        explains: 0,
        evidence: { summary: `Admission control reports load it refused or queued: ${live.slice(0, 4).join("; ")}.`, counts: {}, samples: [] },
        fix,
      },
    ];
  },
};

export const appDeadline: Rule = appEventRule("Requests ran past the app's own deadline (holdfast answered 504 before the proxy gave up).", {
  id: "app-deadline",
  title: "Requests exceed their deadline: the app answers 504 itself",
  severity: "warning",
  events: (e) => e.event === "deadline",
  eventLabel: "deadline",
  detail: (ev) => {
    const paths = new Map<string, number>();
    for (const e of ev) paths.set(String(e.record.fields.path ?? "?"), (paths.get(String(e.record.fields.path ?? "?")) ?? 0) + 1);
    const top = [...paths].sort((a, b) => b[1] - a[1]).slice(0, 3);
    return `Paths: ${top.map(([p, n]) => `${p} (${n})`).join(", ")}. The deadline did its job (a clean 504, work cancelled); the slowness is the cause to chase.`;
  },
  fix: {
    summary:
      "Find what the slow paths wait for (database, outbound calls) in their request events; add indexes, caching or timeouts on outbound calls. Raise the deadline only if the proxy's read timeout stays above it.",
    holdfast: `timeouts: { deadline: "30s" }   // keep below the proxy read timeout`,
  },
});

export const databaseUnavailable: Rule = appEventRule("The database could not be reached (down, refused, DNS) and requests failed with 503 DB_UNAVAILABLE.", {
  id: "database-unavailable",
  title: "Database unreachable",
  severity: "critical",
  events: (e) => e.event === "db.unavailable" && !/too many clients|connection slots/.test(JSON.stringify(e.fields)),
  eventLabel: "db.unavailable",
  fix: {
    summary: "Bring the database back (or fail over); holdfast answers 503 with Retry-After meanwhile and reconnects by itself.",
    holdfast: `db: { pool: { validateAfterIdle: "5s", keepaliveInterval: "30s" } }`,
  },
});

export const proxyQueue: Rule = {
  id: "proxy-queue",
  summary: "Requests waited in HAProxy's queue for a free server slot (maxconn) until timeout queue (sQ).",
  run(data: Dataset, corr: Correlation): Finding[] {
    const hits: number[] = [];
    data.failures.forEach((_f, i) => {
      if (corr.kinds[i] === "queue-timeout") hits.push(i);
    });
    if (!hits.length) return [];
    const counts = statusCounts(data, hits);
    return [
      claim(
        corr,
        {
          id: "proxy-queue",
          title: "Server slots full: requests timed out in the proxy's queue",
          severity: "error",
          confidence: 0.9,
          explains: hits.length,
          evidence: {
            summary: `${ofTotal(data, counts)} ${between(failureWindow(data, hits))} waited in HAProxy's queue for a free server connection (every server at its maxconn) until timeout queue.`,
            counts,
            window: failureWindow(data, hits),
            samples: samples(data, hits),
          },
          fix: {
            summary:
              "The app is saturated at the maxconn HAProxy allows: add instances, make requests cheaper, or raise maxconn if the app has headroom; keep timeout queue short so clients fail fast.",
            haproxy: "backend app\n    timeout queue 5s\n    server app1 127.0.0.1:3000 maxconn 100\n    server app2 127.0.0.1:3001 maxconn 100",
            holdfast: `admission: { mode: "adaptive" }   // holdfast answers 503 + Retry-After itself before queues build up`,
          },
        },
        hits,
      ),
    ];
  },
};
