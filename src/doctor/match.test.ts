import assert from "node:assert/strict";
import { test } from "node:test";
import { analyze } from "./analyze.js";
import { correlate } from "./correlate.js";
import { datasetFromLines } from "./dataset-from-lines.js";
import { findLagPeak, matchEvents, requestSpan } from "./match.js";
import { nginxAccessLine } from "./recorded-lines.js";

const t0 = Date.UTC(2026, 10, 24, 14, 2, 0);

test("request span: nginx and ALB log the end, HAProxy the start", () => {
  assert.deepEqual(requestSpan({ source: "nginx-access", time: 10_000, status: 504, requestTime: 3 }), { start: 7000, end: 10_000 });
  assert.deepEqual(requestSpan({ source: "nginx-access", time: 10_000, status: 504 }), { start: undefined, end: 10_000 });
  assert.deepEqual(requestSpan({ source: "haproxy", time: 10_000, status: 504, requestTime: 3 }), { start: 10_000, end: 13_000 });
});

test("lag peak: a constant delay stands out of random ones; random delays give none", () => {
  const lags = [2010, 1980, 2050, 2200, 1900, -3000, 8000, 15_000, 40_000, 70_000, 100_000];
  const peak = findLagPeak(lags, 5, 5);
  assert.ok(peak && peak.from <= 1900 && peak.to >= 2200, JSON.stringify(peak));
  assert.equal(findLagPeak([-3000, 8000, 15_000, 40_000, 70_000, 100_000], 6, 6), undefined);
});

/**
 * A Node app on pg-pool logs, as pino, its error and then its request line with the duration; the
 * pool waits 5 s, nginx 2 s. 504s are dense (several a second), so time alone is ambiguous: the
 * app's start of each request (request line time − ms) joins it to the proxy's start.
 */
test("dense 504s: app errors join one to one by the app's own request start, and the app's wait is read on its clock", () => {
  const access: string[] = [];
  const app: string[] = [];
  for (let k = 0; k < 30; k++) {
    const start = t0 + k * 170;
    access.push(nginxAccessLine({ t: start + 2000, status: 504, rt: 2.0, urt: 2.0, us: "504", path: k % 3 === 0 ? "/api/report" : "/api/orders" }));
    // Only every third /api/orders request waits out the pool; the rest got a connection late.
    if (k % 3 === 1) {
      const end = start + 5001;
      app.push(
        JSON.stringify({
          level: 50,
          time: end,
          pid: 7,
          err: {
            type: "Error",
            message: "timeout exceeded when trying to connect",
            stack: "Error: timeout exceeded when trying to connect\n    at /srv/node_modules/pg-pool/index.js:45:11",
          },
          msg: "request failed",
        }),
      );
      app.push(JSON.stringify({ level: 30, time: end + 1, pid: 7, method: "GET", url: "/api/orders", status: 500, ms: 5001, msg: "request" }));
    }
  }
  const data = datasetFromLines({ access, app });
  const corr = correlate(data);
  const events = data.appEvents.filter((e) => e.record.event === "pool.timeout");
  assert.equal(events.length, 10);
  assert.ok(events.every((e) => e.record.startedAt !== undefined && e.record.path === "/api/orders"));
  const m = matchEvents(data, corr.byReqId, events, { accept: () => true });
  assert.equal(m.pairs.filter((p) => p.by === "request-start").length, 10);
  for (const p of m.pairs) {
    const f = data.failures[p.failure]?.record;
    // The pair is the request that started when the app's request started (within the second the log is cut to).
    assert.ok(Math.abs((requestSpan(f as never).start as number) - (p.event.record.startedAt as number)) <= 1000, JSON.stringify(p));
  }
  const findings = analyze(datasetFromLines({ access, app }));
  assert.deepEqual(
    findings.slice(0, 3).map((f) => f.id),
    ["timeout-inversion", "pool-exhaustion", "proxy-read-timeout"],
  );
  assert.equal(findings[0]?.explains, 10);
  assert.equal(findings[0]?.evidence.counts.appWaitMs, 5000);
  assert.match(findings[0]?.title ?? "", /≈ 5 s/);
  assert.match(findings[0]?.fix.stack?.lines ?? "", /connectionTimeoutMillis/);
});
