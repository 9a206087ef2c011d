/**
 * Proxy read timeout: the app did not answer within proxy_read_timeout / HAProxy `timeout
 * server` / ALB idle timeout, so the proxy answered 504 itself while the app kept working for nobody.
 */
import { claim } from "../correlate.js";
import type { Correlation, Dataset, Finding, Rule } from "../types.js";
import { detectStack } from "../stack.js";
import { speaksHoldfast } from "./stack-fixes.js";
import { between, distinct, failureWindow, firstErrorLine, ofTotal, samples, statusCounts } from "./evidence.js";

export const proxyReadTimeout: Rule = {
  id: "proxy-read-timeout",
  summary: "The proxy gave up waiting for the app's response (504 from the proxy, not from the app).",
  run(data: Dataset, corr: Correlation): Finding[] {
    const hits: number[] = [];
    data.failures.forEach((_f, i) => {
      // Read timeouts while a worker was stuck are still read timeouts: the death is their cause (a chain), not a replacement.
      if (corr.kinds[i] === "read-timeout") hits.push(i);
    });
    if (hits.length === 0) return [];
    const counts = statusCounts(data, hits);
    const w = failureWindow(data, hits);
    const paths = topPaths(hits.map((i) => data.failures[i]?.record.path));
    // The proxy's read timeout: its config, else what the timed-out requests waited (nginx $upstream_response_time, HAProxy Tr).
    const rt = data.timeouts?.proxyReadTimeout ?? observedWait(data, hits);
    const holdfastApp = speaksHoldfast(detectStack(data));
    const deadline = data.timeouts?.deadline;
    const newDeadline = rt !== undefined ? Math.max(1000, rt - Math.max(1000, Math.round(rt * 0.1))) : 25_000;
    // holdfast's deadline already below the proxy's: raising it to "just below" would make things worse.
    const deadlineBelow = holdfastApp && deadline !== undefined && rt !== undefined && deadline < rt;
    // The value as the config says it (1500ms stays 1500ms: "2s" would be a change, not "as now").
    const rtText = rt === undefined ? "30s" : rt % 1000 ? `${rt}ms` : `${rt / 1000}s`;
    const support = firstErrorLine(data, corr, hits);
    return [
      claim(
        corr,
        {
          id: "proxy-read-timeout",
          title: "Proxy read timeout: the app answers slower than the proxy waits",
          severity: "error",
          confidence: 0.85,
          explains: hits.length,
          evidence: {
            summary: `${ofTotal(data, counts)} ${between(w)} hit the proxy's read timeout${rt !== undefined ? ` (${rt / 1000} s)` : ""}. Slowest paths: ${paths.join(", ") || "?"}.${deadline !== undefined && rt !== undefined && deadline >= rt ? ` The app's deadline (${deadline / 1000} s) is not below it, so the app never answers first.` : ""}`,
            counts: { ...counts },
            window: w,
            samples: samples(data, hits, support),
          },
          fix: {
            summary: deadlineBelow
              ? `The app's deadline (${(deadline as number) / 1000} s) is already below the proxy's ${(rt as number) / 1000} s, yet these requests got no answer in time: the app could not run them at all (a stuck or blocked worker, a full queue). Fix the cause the findings name, then make the slow paths (${paths.slice(0, 2).join(", ") || "see samples"}) fast or asynchronous.`
              : `Give every request a deadline below the proxy's read timeout, so the app answers a clean 504/503 first and stops the work; then make the slow paths (${paths.slice(0, 2).join(", ") || "see samples"}) fast or asynchronous.`,
            holdfast:
              holdfastApp && !deadlineBelow
                ? `timeouts: { deadline: "${newDeadline / 1000}s" }   // below proxy_read_timeout ${rt !== undefined ? `${rt / 1000}s` : "(assumed 30s; give --nginx-config or --haproxy-config for the real value)"}`
                : undefined,
            // No app-server line: gunicorn's --timeout (uWSGI harakiri, Puma worker_timeout) kills the
            // worker, a 502 instead of a 504, not the clean answer a deadline gives.
            nginx: holdfastApp
              ? `proxy_read_timeout ${rtText};   # keep above the app deadline (${(deadlineBelow ? (deadline as number) : newDeadline) / 1000}s)`
              : `proxy_read_timeout ${rtText};   # ${rt !== undefined ? "as now" : "assumed"}: raise it only in a location for the paths that must run longer`,
            haproxy: `timeout server ${rtText}   # ${holdfastApp ? `above the app deadline (${(deadlineBelow ? (deadline as number) : newDeadline) / 1000}s)` : `${rt !== undefined ? "as now" : "assumed"}: raise it only in a backend for the paths that must run longer`}`,
            alb: "Idle timeout above the app deadline: Key=idle_timeout.timeout_seconds,Value=60",
          },
        },
        hits,
      ),
    ];
  },
};

/** Median time the upstream had when the proxy gave up, rounded to 100 ms; undefined when the log has no upstream time. */
function observedWait(data: Dataset, hits: number[]): number | undefined {
  const v: number[] = [];
  for (const i of hits) {
    const t = data.failures[i]?.record.upstreamTime;
    if (t !== undefined && t > 0) v.push(t * 1000);
  }
  if (v.length === 0) return undefined;
  v.sort((a, b) => a - b);
  return Math.round((v[v.length >> 1] as number) / 100) * 100;
}

function topPaths(paths: (string | undefined)[]): string[] {
  const c = new Map<string, number>();
  for (const p of paths) if (p) c.set(p, (c.get(p) ?? 0) + 1);
  return [...c.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([p, n]) => `${p} (${n})`);
}

export { distinct };
