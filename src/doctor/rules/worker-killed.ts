/**
 * Worker killed by the watchdog (holdfast worker.timeout, gunicorn WORKER TIMEOUT) or crashed:
 * the requests it held fail with 502 (connection closed) and new ones are refused until the
 * replacement listens. Failures inside each death's window are attributed to it.
 */
import { claim, deathPairs, deathWindows, failuresInWindow } from "../correlate.js";
import type { Correlation, Dataset, Finding, Fix, Rule } from "../types.js";
import { detectStack, type Stack } from "../stack.js";
import { speaksHoldfast, workerTimeoutFix } from "./stack-fixes.js";
import { between, distinct, failureWindow, ofTotal, samples, statusCounts, windowOfTimes } from "./evidence.js";
import { HAPROXY_RETRY, NGINX_NEXT_UPSTREAM } from "./proxy-advice.js";

export const workerKilled: Rule = {
  id: "worker-killed",
  summary: "Workers killed by the heartbeat watchdog (stuck event loop) or crashing; their in-flight requests fail.",
  run(data: Dataset, corr: Correlation): Finding[] {
    const deaths = deathWindows(data.appEvents).filter((d) => d.cause !== "oom");
    const live = adminRestarts(data);
    const restarts = live.total;
    if (deaths.length === 0 && restarts === 0) return [];
    const hits = new Set<number>();
    for (const d of deaths) for (const i of failuresInWindow(data, d.from, d.to)) hits.add(i);
    const watchdog = deaths.filter((d) => d.cause === "watchdog");
    const pids = distinct(deaths.map((d) => d.event.record.fields.workerPid ?? d.event.record.pid));
    const counts = statusCounts(data, hits);
    const w = failureWindow(data, hits) ?? windowOfTimes(deaths.map((d) => d.event.record.time));
    const stack = detectStack(
      data,
      deaths.map((d) => d.event),
    );
    const arbiter = ARBITER[stack.server];
    const what =
      watchdog.length > 0
        ? `${watchdog.length} ${arbiter ? arbiter.event : "worker.timeout"} event${watchdog.length === 1 ? "" : "s"}`
        : `${deaths.length} worker crash${deaths.length === 1 ? "" : "es"}`;
    const paths = distinct(
      watchdog.flatMap((d) =>
        Array.isArray(d.event.record.fields.inflight) ? (d.event.record.fields.inflight as { path?: string }[]).map((x) => x.path) : [],
      ),
    ).slice(0, 5);
    // Servers that log no in-flight list: the paths that failed in the kill windows.
    const fromFailures = paths.length === 0 && arbiter !== undefined;
    if (fromFailures) paths.push(...topPaths(data, hits));
    const summary =
      hits.size > 0
        ? `${ofTotal(data, counts)} ${between(w)} fall in the kill windows (from the stuck request to the replacement listening) of ${what} on pid ${pids.slice(0, 5).join(", ") || "?"}.`
        : deaths.length > 0
          ? `${what} on pid ${pids.slice(0, 5).join(", ") || "?"} ${between(w)}; no proxy failures were matched to them (give --nginx-access-log to count them).`
          : `The admin endpoints report ${restarts} worker restart${restarts === 1 ? "" : "s"} (${live.byInstance.join("; ")}).`;
    return [
      claim(
        corr,
        {
          id: "worker-killed",
          title:
            watchdog.length > 0
              ? arbiter
                ? `${arbiter.name} killed workers that stopped answering it (${arbiter.event}): a request held each one past ${arbiter.option}`
                : "Workers killed by the watchdog: something blocks the event loop for longer than the heartbeat timeout"
              : "Workers crashing and being restarted",
          severity: hits.size > 0 || deaths.length > 2 ? "critical" : "error",
          confidence: deaths.length > 0 ? (hits.size > 0 ? 0.9 : 0.7) : 0.5,
          explains: hits.size,
          evidence: {
            summary: `${summary}${paths.length ? ` ${fromFailures ? "Paths that failed in the kill windows" : "In flight when killed"}: ${paths.join(", ")}.` : ""}`,
            counts: { ...counts, watchdogKills: watchdog.length, crashes: deaths.length - watchdog.length, adminRestarts: restarts },
            window: w,
            samples: samples(
              data,
              hits,
              deaths.slice(0, 2).map((d) => d.event),
            ),
          },
          fix: killFix(
            data,
            stack,
            watchdog.length > 0,
            paths.map((p) => p.replace(/ \(\d+\)$/, "").split("?")[0] as string),
          ),
        },
        hits,
        deathPairs(data, deaths),
      ),
    ];
  },
};

/** Worker restarts the admin endpoints report, in all and by instance (only those with any). */
function adminRestarts(data: Dataset): { total: number; byInstance: string[] } {
  let total = 0;
  const byInstance: string[] = [];
  for (const a of data.probes.admin ?? []) {
    let n = 0;
    for (const w of a.status?.workers ?? []) n += typeof w.restarts === "number" ? w.restarts : 0;
    if (n > 0) byInstance.push(`${a.url}: ${n}`);
    total += n;
  }
  return { total, byInstance };
}

/** How app servers with an arbiter name their kill and its option. */
const ARBITER: Partial<Record<Stack["server"], { name: string; event: string; option: string }>> = {
  gunicorn: { name: "gunicorn", event: "WORKER TIMEOUT", option: "--timeout" },
  uwsgi: { name: "uWSGI", event: "HARAKIRI", option: "harakiri" },
  puma: { name: "Puma", event: "timed out worker", option: "worker_timeout" },
};

function topPaths(data: Dataset, hits: Iterable<number>): string[] {
  const c = new Map<string, number>();
  for (const i of hits) {
    const p = data.failures[i]?.record.path;
    if (p) c.set(p, (c.get(p) ?? 0) + 1);
  }
  return [...c]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([p, n]) => `${p} (${n})`);
}

/**
 * The fix in the server's own words: an arbiter's timeout and worker class for gunicorn/uWSGI/Puma,
 * the event loop for holdfast. The proxy must not retry the request that held the worker: a retry
 * (nginx retries an idempotent request whose connection closed, and a timed-out one) sends it to
 * the next worker, which it blocks and gets killed too — the kills come in a series.
 */
function killFix(data: Dataset, stack: Stack, watchdog: boolean, paths: string[]): Fix {
  const rt = data.timeouts?.proxyReadTimeout;
  const idle = data.timeouts?.proxyIdleTimeout;
  const arbiter = ARBITER[stack.server];
  // Below the proxy's read timeout, so a stuck worker is reclaimed before the proxy gives up.
  const timeoutS = rt !== undefined ? Math.max(1, Math.min(30, Math.floor((rt * 0.8) / 1000))) : 30;
  const own = workerTimeoutFix(stack, timeoutS, rt !== undefined ? rt / 1000 : undefined, idle !== undefined ? idle / 1000 : undefined);
  const summary = !watchdog
    ? "Read the stack of the worker.exit events and fix the crash; until then the server restarts the worker."
    : arbiter
      ? `A request kept each worker busy past ${arbiter.option} and ${arbiter.name} killed it, dropping its requests (they fail at the proxy). Find the slow request (the paths named above; ${arbiter.name} logs where the worker was stuck) and make it fast or move it to a job queue. A worker that serves one request at a time cannot answer its arbiter while it waits: use threads or an async worker class for I/O-bound work, and keep ${arbiter.option} below the proxy's read timeout so the worker is replaced before the proxy gives up.`
      : "Find what blocks the event loop (the worker.timeout event carries the stack and the in-flight paths) and move it off the loop (worker thread, streaming, smaller batches). Keep the heartbeat timeout well above normal pauses, and below the proxy read timeout.";
  const noRetry = watchdog && paths.length > 0;
  const retrySummary = noRetry ? ` Do not let the proxy retry ${paths.join(", ")} on another server or worker: the retry gets that worker killed too.` : "";
  return {
    summary: `${summary}${retrySummary}`,
    holdfast: speaksHoldfast(stack)
      ? `timeouts: { heartbeat: "${timeoutS}s" }   // above the app's normal pauses${rt !== undefined ? `, below proxy_read_timeout ${rt / 1000}s` : ", below the proxy's read timeout"}; the deadline stays below it`
      : undefined,
    stack: own,
    nginx: noRetry
      ? paths
          .slice(0, 3)
          .map(
            (p) =>
              `location ${p} {\n    proxy_pass http://app;\n    proxy_next_upstream off;   # a retry sends the request that stalled a worker to the next one\n}`,
          )
          .join("\n")
      : NGINX_NEXT_UPSTREAM,
    haproxy: noRetry
      ? "retry-on conn-failure   # only a failed connect: never a request the app already held (empty-response, response-timeout)\nretries 2"
      : HAPROXY_RETRY,
  };
}
