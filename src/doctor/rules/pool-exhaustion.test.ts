import assert from "node:assert/strict";
import { test } from "node:test";
import { runRule } from "../analyze.js";
import { datasetFromLines } from "../dataset-from-lines.js";
import { holdfastLine, nginxAccessLine } from "../recorded-lines.js";
import { poolExhaustion } from "./pool-exhaustion.js";

const t0 = Date.UTC(2026, 10, 24, 14, 2, 0);

test("503s matched to pool.timeout events by request id", () => {
  const access: string[] = [];
  const app: string[] = [];
  for (let i = 0; i < 10; i++) {
    access.push(nginxAccessLine({ t: t0 + i * 60_000, status: 503, urt: 2, rid: `r${i}` }));
    // logged far from the access line's second: only the request id can join them
    app.push(holdfastLine(t0 + i * 60_000 + 20_000, "pool.timeout", { reqId: `r${i}`, waitedMs: 2000, size: 10, busy: 10, waiting: 40, max: 10 }));
  }
  const [f] = runRule(poolExhaustion, datasetFromLines({ access, app }));
  assert.equal(f?.explains, 10);
  assert.match(f?.evidence.summary ?? "", /Pool max 10, up to 40 callers waiting/);
});

test("knex and pg text lines are pool timeouts too, joined by time", () => {
  const app = ["2026-11-24T14:02:00.500Z error: KnexTimeoutError: Knex: Timeout acquiring a connection. The pool is probably full."];
  const access = [nginxAccessLine({ t: t0 + 1000, status: 500, urt: 5 })];
  assert.equal(runRule(poolExhaustion, datasetFromLines({ access, app }))[0]?.explains, 1);
});

test("live pool status from the admin endpoint: warning without logs", () => {
  const admin = [{ url: "http://127.0.0.1:9464", status: { workers: [{ id: 1, db: { pool: { size: 10, busy: 10, max: 10, waiting: 3 } } }] } }];
  const [f] = runRule(poolExhaustion, datasetFromLines({ probes: { admin } }));
  assert.equal(f?.severity, "warning");
  assert.match(f?.evidence.summary ?? "", /10\/10 busy, 3 waiting/);
});

test("when the app sheds on its own (503s it answered after 1.5 s, HAProxy waits 10 s) the fix keeps its acquire timeout and invents no pool size", () => {
  const haproxy: string[] = [];
  const app: string[] = [];
  for (let i = 0; i < 6; i++) {
    const accept = t0 + i * 700;
    const d = new Date(accept);
    const stamp = `${String(d.getUTCDate()).padStart(2, "0")}/Nov/2026:${d.toISOString().slice(11, 23)}`;
    haproxy.push(`127.0.0.1:4512${i} [${stamp}] www app/app1 0/0/0/1523/1523 503 170 - - ---- 17/17/16/16/0 0/0 "GET /api/search HTTP/1.1"`);
    app.push(
      `${new Date(accept + 1510).toISOString()} ERROR catalog: GET /api/search failed: Knex: Timeout acquiring a connection. The pool is probably full.`,
    );
  }
  const [f] = runRule(poolExhaustion, datasetFromLines({ haproxy, app, timeouts: { proxyReadTimeout: 10_000 } }));
  assert.equal(f?.explains, 6);
  assert.match(f?.fix.summary ?? "", /already gives up on the pool before the proxy does .* ≈ 1\.5 s/);
  assert.match(f?.fix.stack?.lines ?? "", /acquireConnectionTimeout: 1500 .*keep/);
  assert.doesNotMatch(f?.fix.stack?.lines ?? "", /max: \d/);
});

test("knex's untimed tarn warnings are said to be read with the app's own pool errors", () => {
  const app = [
    "Acquire connection error: Error: operation timed out for an unknown reason",
    "    at /srv/app/node_modules/tarn/dist/PendingOperation.js:18:27",
    "2026-11-24T14:02:00.500Z ERROR catalog: GET /api/search failed: Knex: Timeout acquiring a connection. The pool is probably full.",
  ];
  const access = [nginxAccessLine({ t: t0 + 1000, status: 503, urt: 1.5, rt: 1.5, path: "/api/search" })];
  const [f] = runRule(poolExhaustion, datasetFromLines({ access, app }));
  assert.equal(f?.evidence.counts.events, 1, "one failure, not two");
  assert.match(f?.evidence.summary ?? "", /"Acquire connection error" warnings .* 1 folded into the app's line/);
});
