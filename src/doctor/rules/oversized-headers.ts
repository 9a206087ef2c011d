/**
 * Oversized upstream headers: the app's response headers (big cookies, long CSP, many Set-Cookie)
 * do not fit the proxy's header buffer; nginx "upstream sent too big header", HAProxy PH.
 */
import { claim } from "../correlate.js";
import type { Correlation, Dataset, Finding, Rule } from "../types.js";
import { between, failureWindow, ofTotal, samples, statusCounts, windowOfTimes } from "./evidence.js";

export const oversizedHeaders: Rule = {
  id: "oversized-headers",
  summary: "Upstream response headers larger than the proxy's buffer (upstream sent too big header).",
  run(data: Dataset, corr: Correlation): Finding[] {
    const hits: number[] = [];
    data.failures.forEach((_f, i) => {
      if (corr.kinds[i] === "header-too-big") hits.push(i);
    });
    const unmatched = data.proxyErrors.filter((e) => e.record.kind === "header-too-big");
    if (hits.length === 0 && unmatched.length === 0) return [];
    const counts = statusCounts(data, hits);
    const w = failureWindow(data, hits) ?? windowOfTimes(unmatched.map((e) => e.record.time));
    const n = data.proxyRequests > 0 ? hits.length : unmatched.length;
    const cur = data.proxyConfig?.proxyBufferSize;
    return [
      claim(
        corr,
        {
          id: "oversized-headers",
          title: "Response headers too big for the proxy's buffer",
          severity: "error",
          confidence: 0.95,
          explains: n,
          evidence: {
            summary: `${hits.length ? ofTotal(data, counts) : `${unmatched.length} request${unmatched.length === 1 ? "" : "s"}`} ${between(w)} failed because the app sent response headers larger than the proxy's buffer${cur ? ` (proxy_buffer_size ${cur} bytes)` : ""}.`,
            counts: { ...counts, errorLines: unmatched.length },
            window: w,
            samples: samples(data, hits, unmatched.slice(0, 1)),
          },
          fix: {
            summary: "Shrink the headers (cookies, CSP) or give the proxy a bigger header buffer.",
            nginx: "proxy_buffer_size 16k;\nproxy_buffers 8 16k;\nproxy_busy_buffers_size 32k;",
            haproxy: "global\n    tune.bufsize 32768\n    tune.maxrewrite 1024",
            alb: "ALB caps response headers at 32 KB: reduce the headers (Set-Cookie, CSP).",
          },
        },
        hits,
      ),
    ];
  },
};
