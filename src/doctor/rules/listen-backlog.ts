/**
 * Listen-backlog overflow: connections arrive faster than the app accepts them; the kernel drops
 * SYNs (ListenOverflows in /proc/net/netstat) and the proxy sees connect timeouts or EAGAIN on
 * unix sockets.
 */
import { claim } from "../correlate.js";
import type { Correlation, Dataset, Finding, Rule } from "../types.js";
import { between, failureWindow, ofTotal, samples, statusCounts } from "./evidence.js";
import { NGINX_NEXT_UPSTREAM } from "./proxy-advice.js";

export const listenBacklog: Rule = {
  id: "listen-backlog",
  summary: "Listen queue overflow: the kernel drops connections before the app accepts them.",
  run(data: Dataset, corr: Correlation): Finding[] {
    const hits: number[] = [];
    data.failures.forEach((_f, i) => {
      const k = corr.kinds[i];
      if ((k === "connect-timeout" || k === "connect-eagain") && !corr.deathClaimed.has(i)) hits.push(i);
    });
    const sys = data.probes.system;
    const overflows = sys?.listenOverflows ?? 0;
    if (hits.length === 0 && overflows === 0) return [];
    const counts = statusCounts(data, hits);
    const w = failureWindow(data, hits);
    return [
      claim(
        corr,
        {
          id: "listen-backlog",
          title: "Listen backlog overflowing: connections dropped before the app accepts them",
          severity: hits.length ? "error" : "warning",
          confidence: hits.length && overflows ? 0.85 : hits.length ? 0.6 : 0.5,
          explains: hits.length,
          evidence: {
            summary: `${hits.length ? `${ofTotal(data, counts)} ${between(w)} failed while connecting (timeout or EAGAIN). ` : ""}${overflows ? `The kernel counted ${overflows} ListenOverflows while the doctor watched${sys?.somaxconn !== undefined ? ` (net.core.somaxconn ${sys.somaxconn})` : ""}.` : ""}`,
            counts: { ...counts, listenOverflows: overflows },
            window: w,
            samples: samples(data, hits),
          },
          fix: {
            summary:
              "Raise the backlog (the app's and the kernel cap), add workers if they are saturated, and let admission control shed load early instead of letting connections queue in the kernel.",
            holdfast: "backlog: 4096   // and: sysctl -w net.core.somaxconn=4096 net.ipv4.tcp_max_syn_backlog=4096",
            nginx: `proxy_connect_timeout 2s;   # fail fast and retry another upstream\n${NGINX_NEXT_UPSTREAM}`,
            haproxy: "backend app\n    server app1 127.0.0.1:3000 maxconn 200   # queue in HAProxy, not in the kernel",
          },
        },
        hits,
      ),
    ];
  },
};
