import assert from "node:assert/strict";
import { test } from "node:test";
import { runRule } from "../analyze.js";
import { datasetFromLines } from "../dataset-from-lines.js";
import { holdfastLine, nginxAccessLine } from "../recorded-lines.js";
import { appDeadline, databaseUnavailable, loadShed } from "./overload.js";

const t0 = Date.UTC(2026, 10, 24, 14, 2, 0);

test("shed events explain the 503s they answered, joined by request id", () => {
  const app = [0, 1, 2].map((i) => holdfastLine(t0 + i * 10_000, "shed", { reqId: `s${i}`, reason: "queue", path: "/api/search" }));
  const access = [0, 1, 2].map((i) => nginxAccessLine({ t: t0 + i * 10_000, status: 503, urt: 0.001, rid: `s${i}` }));
  const [f] = runRule(loadShed, datasetFromLines({ access, app }));
  assert.equal(f?.explains, 3);
  assert.match(f?.evidence.summary ?? "", /queue 3/);
});

test("deadline events explain the app's own 504s and name the slow paths", () => {
  const app = [holdfastLine(t0, "deadline", { reqId: "d1", path: "/api/report", deadlineMs: 30_000 })];
  const access = [nginxAccessLine({ t: t0, status: 504, urt: 30, us: "504", rid: "d1" })];
  const [f] = runRule(appDeadline, datasetFromLines({ access, app }));
  assert.equal(f?.explains, 1);
  assert.match(f?.evidence.summary ?? "", /\/api\/report \(1\)/);
});

test("db.unavailable is its own cause unless it says the server is out of slots", () => {
  assert.equal(
    runRule(databaseUnavailable, datasetFromLines({ app: [holdfastLine(t0, "db.unavailable", { error: "ECONNREFUSED 127.0.0.1:5432" })] }))[0]?.severity,
    "critical",
  );
  assert.deepEqual(
    runRule(databaseUnavailable, datasetFromLines({ app: [holdfastLine(t0, "db.unavailable", { error: "sorry, too many clients already" })] })),
    [],
  );
});

test("the app's own 504 (joined by request id) is not counted as a proxy read timeout", async () => {
  const { proxyReadTimeout } = await import("./proxy-read-timeout.js");
  const app = [holdfastLine(t0, "deadline", { reqId: "d1", path: "/api/report", deadlineMs: 30_000 })];
  const access = [nginxAccessLine({ t: t0, status: 504, urt: 30, us: "504", rid: "d1" })];
  assert.deepEqual(runRule(proxyReadTimeout, datasetFromLines({ access, app })), []);
});

test("live admission stats alone: a warning that names the instance", () => {
  const admin = [
    { url: "http://10.0.0.5:9464", status: { counters: { shed: 120 }, workers: [{ id: 1, admission: { limit: 20, inflight: 20, queued: 7, shed: 120 } }] } },
  ];
  const [f] = runRule(loadShed, datasetFromLines({ probes: { admin } }));
  assert.match(f?.evidence.summary ?? "", /10\.0\.0\.5:9464: 120 shed since start, 7 queued now/);
});

test("HAProxy sQ: timed out in the proxy's queue", async () => {
  const { proxyQueue } = await import("./overload.js");
  const haproxy = [
    'Nov 24 14:03:20 lb1 haproxy[2201]: 10.0.3.26:51420 [24/Nov/2026:14:03:10.000] www~ app/app1 0/10000/-1/-1/10000 503 217 - - sQ-- 200/200/199/99/0 0/120 "GET /api/orders HTTP/1.1"',
  ];
  const [f] = runRule(proxyQueue, datasetFromLines({ haproxy }));
  assert.equal(f?.explains, 1);
});
