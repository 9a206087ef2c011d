/**
 * Upstream down or in a crash loop: the proxy's connections are refused (nginx 111 Connection
 * refused, HAProxy SC, ALB TargetConnectionError), outside the short gap of a worker restart.
 */
import { claim } from "../correlate.js";
import type { Correlation, Dataset, Finding, Rule } from "../types.js";
import { detectStack } from "../stack.js";
import { speaksHoldfast } from "./stack-fixes.js";
import { between, distinct, failureWindow, firstErrorLine, ofTotal, samples, statusCounts } from "./evidence.js";

export const upstreamDown: Rule = {
  id: "upstream-down",
  summary: "Connections to the upstream refused: the app is not listening (down, crash loop, wrong port).",
  run(data: Dataset, corr: Correlation): Finding[] {
    const hits: number[] = [];
    data.failures.forEach((_f, i) => {
      // Refusals while a dead worker is replaced are refusals: the death is their cause (a chain), not a replacement.
      if (corr.kinds[i] === "connect-refused") hits.push(i);
    });
    const loops = data.appEvents.filter((e) => e.record.event === "worker.crashloop");
    if (hits.length === 0 && loops.length === 0) return [];
    const counts = statusCounts(data, hits);
    const w = failureWindow(data, hits);
    const upstreams = distinct(
      hits
        .map(
          (i) => data.failures[i]?.record.upstream ?? (corr.errorLine[i] !== -1 ? data.proxyErrors[corr.errorLine[i] as number]?.record.upstream : undefined),
        )
        .map((u) => u?.replace(/^([a-z]+:\/\/[^/]+).*$/, "$1")),
    ).slice(0, 3);
    const support = [...loops.slice(0, 1), ...firstErrorLine(data, corr, hits)];
    // The address the proxy was refused at, when its logs name one (nginx "http://127.0.0.1:35441"); else a placeholder said to be one.
    const known = upstreams
      .map((u) => /^(?:[a-z]+:\/\/)?(\d{1,3}(?:\.\d{1,3}){3}:\d+|\[[0-9a-f:]+\]:\d+|[a-z0-9.-]+:\d+)$/i.exec(u ?? "")?.[1])
      .find((a) => a !== undefined);
    const addr = known ?? "127.0.0.1:3000";
    const mark = known ? "" : "   # your app's address";
    const port = Number(addr.slice(addr.lastIndexOf(":") + 1));
    const second = `${addr.slice(0, addr.lastIndexOf(":"))}:${port + 1}`;
    const holdfast = speaksHoldfast(detectStack(data));
    return [
      claim(
        corr,
        {
          id: "upstream-down",
          title:
            loops.length > 0
              ? "App in a crash loop: workers die at start and the upstream refuses connections"
              : "Upstream down: connections refused, nothing is listening",
          severity: "critical",
          confidence: hits.length > 0 ? 0.9 : 0.7,
          explains: hits.length,
          evidence: {
            summary: `${hits.length > 0 ? `${ofTotal(data, counts)} ${between(w)} were refused at connect (nothing listening on ${upstreams.join(", ") || "the upstream"})` : "No refused connections matched"}${loops.length ? `; the app logged ${loops.length} worker.crashloop event${loops.length === 1 ? "" : "s"}` : ""}.`,
            counts: { ...counts, crashloops: loops.length },
            window: w,
            samples: samples(data, hits, support),
          },
          fix: {
            summary: loops.length
              ? "Read the first worker.exit / crash-loop stack in the app log and fix the start-up error (config, missing env, port in use); holdfast stops after restart.crashLoopMax crashes instead of spinning."
              : "Start the app (or fix the port the proxy points at); run it under a supervisor that restarts it, and give the proxy more than one upstream.",
            holdfast: holdfast ? `port: ${port}   // must match the proxy's upstream\nrestart: { crashLoopMax: 10, crashLoopWindow: "60s" }` : undefined,
            nginx: `upstream app {\n    server ${addr} max_fails=3 fail_timeout=10s;${mark}\n    server ${second} backup;   # a second instance\n}`,
            haproxy: `backend app\n    option httpchk GET ${holdfast ? "/readyz" : "/healthz   # a path that answers 200 when the app is ready"}\n    server app1 ${addr} check inter 2s fall 3 rise 2${mark}\n    server app2 ${second} check inter 2s fall 3 rise 2   # a second instance`,
            alb: "Target group health check: path /readyz, interval 10 s, healthy threshold 2; register at least two targets.",
          },
        },
        hits,
      ),
    ];
  },
};
