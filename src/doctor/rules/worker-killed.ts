/**
 * Worker killed by the watchdog (holdfast worker.timeout, gunicorn WORKER TIMEOUT) or crashed:
 * the requests it held fail with 502 (connection closed) and new ones are refused until the
 * replacement listens. Failures inside each death's window are attributed to it.
 */
import { claim, type Correlation, deathWindows, failuresInWindow } from "../correlate.js";
import type { Dataset, Finding, Rule } from "../types.js";
import { between, distinct, failureWindow, ofTotal, samples, statusCounts, windowOfTimes } from "./evidence.js";

export const workerKilled: Rule = {
  id: "worker-killed",
  summary: "Workers killed by the heartbeat watchdog (stuck event loop) or crashing; their in-flight requests fail.",
  run(data: Dataset, corr: Correlation): Finding[] {
    const deaths = deathWindows(data.appEvents).filter((d) => d.cause !== "oom");
    const restarts = adminRestarts(data);
    if (deaths.length === 0 && restarts === 0) return [];
    const hits = new Set<number>();
    for (const d of deaths) for (const i of failuresInWindow(data, d.from, d.to)) hits.add(i);
    const watchdog = deaths.filter((d) => d.cause === "watchdog");
    const pids = distinct(deaths.map((d) => d.event.record.fields.workerPid ?? d.event.record.pid));
    const counts = statusCounts(data, hits);
    const w = failureWindow(data, hits) ?? windowOfTimes(deaths.map((d) => d.event.record.time));
    const what = watchdog.length > 0 ? `${watchdog.length} worker.timeout event${watchdog.length === 1 ? "" : "s"}` : `${deaths.length} worker crash${deaths.length === 1 ? "" : "es"}`;
    const paths = distinct(
      watchdog.flatMap((d) => (Array.isArray(d.event.record.fields.inflight) ? (d.event.record.fields.inflight as { path?: string }[]).map((x) => x.path) : [])),
    ).slice(0, 5);
    const summary =
      hits.size > 0
        ? `${ofTotal(data, counts)} ${between(w)} follow ${what} on pid ${pids.slice(0, 5).join(", ") || "?"}.`
        : deaths.length > 0
          ? `${what} on pid ${pids.slice(0, 5).join(", ") || "?"} ${between(w)}; no proxy failures were matched to them (give --nginx-access-log to count them).`
          : `The admin endpoint reports ${restarts} worker restarts.`;
    return [
      claim(corr, {
        id: "worker-killed",
        title: watchdog.length > 0 ? "Workers killed by the watchdog: something blocks the event loop for longer than the heartbeat timeout" : "Workers crashing and being restarted",
        severity: hits.size > 0 || deaths.length > 2 ? "critical" : "error",
        confidence: deaths.length > 0 ? (hits.size > 0 ? 0.9 : 0.7) : 0.5,
        explains: hits.size,
        evidence: {
          summary: `${summary}${paths.length ? ` In flight when killed: ${paths.join(", ")}.` : ""}`,
          counts: { ...counts, watchdogKills: watchdog.length, crashes: deaths.length - watchdog.length, adminRestarts: restarts },
          window: w,
          samples: samples(data, hits, deaths.slice(0, 2).map((d) => d.event)),
        },
        fix: {
          summary:
            watchdog.length > 0
              ? "Find what blocks the event loop (the worker.timeout event carries the stack and the in-flight paths) and move it off the loop (worker thread, streaming, smaller batches). Keep the heartbeat timeout well above normal pauses, and below the proxy read timeout."
              : "Read the stack of the worker.exit events and fix the crash; until then holdfast restarts the worker with backoff.",
          holdfast: `timeouts: { heartbeat: "30s", deadline: "25s" }   // deadline < heartbeat < proxy read timeout`,
          nginx: "proxy_next_upstream error timeout;   # retry idempotent requests on another worker/instance\nproxy_next_upstream_tries 2;",
          haproxy: "retry-on conn-failure empty-response response-timeout\nretries 2",
        },
      }, hits),
    ];
  },
};

function adminRestarts(data: Dataset): number {
  let n = 0;
  for (const a of data.probes.admin ?? []) for (const w of a.status?.workers ?? []) n += typeof w.restarts === "number" ? w.restarts : 0;
  return n;
}
