/**
 * All upstreams marked down: after max_fails errors nginx stops sending to a server for
 * fail_timeout ("no live upstreams"); HAProxy answers 503 with <NOSRV>. Often the echo of
 * another cause (timeouts, crashes) that marked every server failed.
 */
import { claim } from "../correlate.js";
import type { Correlation, Dataset, Finding, Rule } from "../types.js";
import { between, failureWindow, ofTotal, samples, statusCounts, windowOfTimes } from "./evidence.js";
import { NGINX_NEXT_UPSTREAM } from "./proxy-advice.js";

export const allUpstreamsDown: Rule = {
  id: "all-upstreams-down",
  summary: "Every upstream server marked failed: the proxy answers without trying (no live upstreams / <NOSRV>).",
  run(data: Dataset, corr: Correlation): Finding[] {
    const hits: number[] = [];
    data.failures.forEach((_f, i) => {
      if (corr.kinds[i] === "no-live-upstreams") hits.push(i);
    });
    const lines = data.proxyErrors.filter((e) => e.record.kind === "no-live-upstreams");
    if (hits.length === 0 && lines.length === 0) return [];
    const counts = statusCounts(data, hits);
    const w = failureWindow(data, hits) ?? windowOfTimes(lines.map((e) => e.record.time));
    return [
      claim(
        corr,
        {
          id: "all-upstreams-down",
          title: "All upstream servers marked down by the proxy",
          severity: "critical",
          confidence: 0.9,
          explains: data.proxyRequests > 0 ? hits.length : lines.length,
          evidence: {
            summary: `${hits.length ? ofTotal(data, counts) : `${lines.length} request${lines.length === 1 ? "" : "s"}`} ${between(w)} were answered by the proxy without trying any server, because every server was marked failed. What marked them (timeouts, refused connections) is the finding this one is listed under, or the others in this report when it stands alone.`,
            counts: { ...counts, errorLines: lines.length },
            window: w,
            // HAProxy's own "Server app/app1 is DOWN, reason: …" says what marked it.
            samples: samples(data, hits, [...lines.slice(0, 1), ...(data.proxyNotices ?? []).filter((n) => /is DOWN/.test(n.record)).slice(0, 1)]),
          },
          fix: {
            summary:
              "Fix what makes the servers fail (see the other findings), and stop one slow request from ejecting a whole server: count only connection errors as failures, and have more than one upstream.",
            nginx: `upstream app {\n    server 127.0.0.1:3000 max_fails=5 fail_timeout=5s;\n    server 127.0.0.1:3001 max_fails=5 fail_timeout=5s;\n}\n${NGINX_NEXT_UPSTREAM}`,
            haproxy:
              "backend app\n    option redispatch\n    server app1 127.0.0.1:3000 check fall 5 rise 2\n    server app2 127.0.0.1:3001 check fall 5 rise 2",
          },
        },
        hits,
      ),
    ];
  },
};
