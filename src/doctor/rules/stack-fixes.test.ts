import assert from "node:assert/strict";
import { test } from "node:test";
import { analyze, runRule } from "../analyze.js";
import { datasetFromLines } from "../dataset-from-lines.js";
import { holdfastLine, nginxAccessLine, nginxErrorLine } from "../recorded-lines.js";
import { toText } from "../report/text.js";
import { poolExhaustion } from "./pool-exhaustion.js";
import { probeHealth } from "./probe-health.js";
import { sqliteLock } from "./sqlite-lock.js";
import { workerKilled } from "./worker-killed.js";

const t0 = Date.UTC(2026, 10, 24, 14, 2, 0);

test("a gunicorn WORKER TIMEOUT gets gunicorn's flags, not Node event-loop advice", () => {
  const app = [
    "[2026-11-24 14:02:30 +0000] [4100] [CRITICAL] WORKER TIMEOUT (pid:4121)",
    "[2026-11-24 14:02:31 +0000] [4100] [ERROR] Worker (pid:4121) was sent SIGKILL! Perhaps out of memory?",
    "[2026-11-24 14:02:31 +0000] [4133] [INFO] Booting worker with pid: 4133",
  ];
  const access = [nginxAccessLine({ t: t0 + 30_100, status: 502, urt: 30, rt: 30, path: "/report" })];
  const [f] = runRule(workerKilled, datasetFromLines({ app, access, timeouts: { proxyReadTimeout: 60_000 } }));
  assert.match(f?.title ?? "", /gunicorn killed workers .*WORKER TIMEOUT/);
  assert.doesNotMatch(`${f?.title} ${f?.fix.summary}`, /event loop/i);
  assert.equal(f?.fix.stack?.name, "gunicorn");
  for (const flag of ["--timeout 30", "--graceful-timeout 30", "--keep-alive", "--worker-class gthread"])
    assert.ok(f?.fix.stack?.lines.includes(flag), `${flag} in ${f?.fix.stack?.lines}`);
  assert.equal(f?.fix.holdfast, undefined, "holdfast keys are not gunicorn's words");
  assert.match(f?.evidence.summary ?? "", /\/report/);
  // The text report prints the evidence (with the paths) above the fix.
  assert.doesNotMatch(f?.fix.summary ?? "", /paths below/);
  // gunicorn's line names no path in flight: the failed path still gets the no-retry location.
  assert.match(f?.fix.nginx ?? "", /location \/report \{[\s\S]*proxy_next_upstream off;/);
});

test("holdfast's own watchdog keeps holdfast's keys and the event-loop advice", () => {
  const app = [holdfastLine(t0 + 30_000, "worker.timeout", { workerPid: 4121, heartbeatAgeMs: 30_000 })];
  const [f] = runRule(workerKilled, datasetFromLines({ app, access: [nginxAccessLine({ t: t0 + 30_020, status: 502 })] }));
  assert.match(f?.fix.summary ?? "", /event loop/);
  assert.match(f?.fix.holdfast ?? "", /heartbeat: "30s"/);
  assert.equal(f?.fix.stack, undefined);
});

test("'database is locked' in a Python traceback → Python sqlite3 timeout= below the proxy's read timeout", () => {
  const app = [
    "[2026-11-24 14:02:05,120+0000] ERROR in app: Exception on /api/orders [POST]",
    "Traceback (most recent call last):",
    '  File "/srv/app/app.py", line 42, in create_order',
    "sqlite3.OperationalError: database is locked",
  ];
  const [f] = runRule(sqliteLock, datasetFromLines({ app, timeouts: { proxyReadTimeout: 3000 } }));
  assert.equal(f?.fix.stack?.name, "python sqlite3");
  assert.match(f?.fix.stack?.lines ?? "", /sqlite3\.connect\("app\.db", timeout=2\)/);
  assert.match(f?.fix.stack?.lines ?? "", /journal_mode=WAL/);
  assert.equal(f?.fix.holdfast, undefined);
});

test("pool timeouts name knex, pg-pool, HikariCP or SQLAlchemy options by what logged them", () => {
  const cases: [string, RegExp][] = [
    ["2026-11-24T14:02:06.000Z error: KnexTimeoutError: Knex: Timeout acquiring a connection. The pool is probably full.", /acquireConnectionTimeout: 2000/],
    ["2026-11-24T14:02:06.000Z Error: timeout exceeded when trying to connect", /connectionTimeoutMillis: 2000/],
    [
      "2026-11-24T14:02:06.118Z ERROR 4242 --- [exec-7] c.z.h.p.HikariPool : HikariPool-1 - Connection is not available, request timed out after 30005ms.",
      /spring\.datasource\.hikari\.connection-timeout=2000/,
    ],
    [
      "2026-11-24 14:02:06,000+0000 ERROR app: sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout 30.00",
      /pool_timeout=2\b/,
    ],
  ];
  for (const [line, want] of cases) {
    const [f] = runRule(poolExhaustion, datasetFromLines({ app: [line], timeouts: { proxyReadTimeout: 10_000 } }));
    assert.match(f?.fix.stack?.lines ?? "", want, line);
    assert.equal(f?.fix.holdfast, undefined, line);
  }
});

test("no two findings give different proxy_next_upstream advice", () => {
  const access: string[] = [];
  const error: string[] = [];
  const app: string[] = [holdfastLine(t0 + 30_000, "worker.timeout", { workerPid: 4121, heartbeatAgeMs: 30_000 })];
  access.push(nginxAccessLine({ t: t0 + 30_020, status: 502 }));
  for (let i = 0; i < 4; i++) {
    const t = t0 + 300_000 + i * 5000;
    access.push(nginxAccessLine({ t, status: 503, us: "503", urt: 0.01 }));
    app.push(holdfastLine(t - 5, "pool.timeout", { waitedMs: 5 }));
    app.push(holdfastLine(t + 60_000, "shed", { reason: "queue" }));
    access.push(nginxAccessLine({ t: t + 60_005, status: 503, us: "503", urt: 0.001 }));
    access.push(nginxAccessLine({ t: t + 600_000, status: 502, urt: 0.001, method: "POST" }));
    error.push(nginxErrorLine(t + 600_000, "upstream-closed", "POST"));
    error.push(nginxErrorLine(t + 900_000, "no-live-upstreams"));
    access.push(nginxAccessLine({ t: t + 900_000, status: 502, urt: null }));
  }
  const findings = analyze(datasetFromLines({ access, error, app }));
  const lines = new Set(findings.flatMap((f) => (f.fix.nginx ?? "").split("\n").filter((l) => l.startsWith("proxy_next_upstream "))));
  assert.ok(findings.filter((f) => f.fix.nginx?.includes("proxy_next_upstream")).length >= 3, findings.map((f) => f.id).join());
  assert.equal(lines.size, 1, [...lines].join("\n"));
});

test("an evidence line is quoted once, even when it is both the failure and its support", () => {
  // No access log: each error line stands for one failed request and is also the supporting line.
  const error = [nginxErrorLine(t0, "read-timeout"), nginxErrorLine(t0 + 1000, "read-timeout")];
  const findings = analyze(datasetFromLines({ error }));
  for (const f of findings) {
    const keys = f.evidence.samples.map((s) => `${s.file}:${s.line}`);
    assert.equal(new Set(keys).size, keys.length, `${f.id}: ${keys}`);
  }
  const text = toText({ findings, healthy: false, data: datasetFromLines({ error }) });
  assert.equal(text.split("\n").filter((l) => l.includes("error.log:1 ")).length, 1, text);
});

test("a live probe is about now: host load after old logs is info and says so", () => {
  const probes = { system: { at: t0 + 5 * 86_400_000, load: [9, 8, 7], cpus: 2, memTotal: 8e9, memAvailable: 4e9, disks: [] } };
  const old = runRule(probeHealth, datasetFromLines({ access: [nginxAccessLine({ t: t0, status: 502 })], probes }));
  assert.equal(old[0]?.id, "host-load");
  assert.equal(old[0]?.severity, "info");
  assert.match(old[0]?.evidence.summary ?? "", /now \(probed at \d\d:\d\d:\d\d UTC\)/);
  assert.match(old[0]?.evidence.summary ?? "", /not evidence about the incident/);
  const fresh = runRule(probeHealth, datasetFromLines({ access: [nginxAccessLine({ t: t0 + 5 * 86_400_000 - 60_000, status: 502 })], probes }));
  assert.equal(fresh[0]?.severity, "warning");
  assert.match(fresh[0]?.title ?? "", /now/);
});

test("a worker killed while holding /api/export: no retry of that path, and a heartbeat below the proxy's read timeout", () => {
  const app = [
    holdfastLine(
      t0 + 5000,
      "worker.timeout",
      { workerPid: 4121, heartbeatAgeMs: 2200, heartbeatTimeoutMs: 2000, inflight: [{ method: "GET", path: "/api/export", ageMs: 1500 }] },
      "error",
    ),
  ];
  const access = [nginxAccessLine({ t: t0 + 5050, status: 502, urt: 4, rt: 4, path: "/api/export" })];
  const [f] = runRule(workerKilled, datasetFromLines({ access, app, timeouts: { proxyReadTimeout: 10_000 } }));
  assert.match(f?.fix.nginx ?? "", /location \/api\/export \{[\s\S]*proxy_next_upstream off;/);
  assert.doesNotMatch(f?.fix.nginx ?? "", /^proxy_next_upstream error/m, "no retry advice for the path that kills workers");
  assert.match(f?.fix.summary ?? "", /Do not let the proxy retry \/api\/export/);
  const hb = Number(/heartbeat: "(\d+)s"/.exec(f?.fix.holdfast ?? "")?.[1]);
  assert.ok(hb > 0 && hb < 10, f?.fix.holdfast);
});

test("an app log another stack wrote (pino without holdfast's events) gets no holdfast config keys", () => {
  const app = [
    JSON.stringify({
      level: 30,
      time: t0 + 2100,
      pid: 7,
      hostname: "h",
      req: { method: "GET", url: "/api/report" },
      res: { statusCode: 200 },
      responseTime: 3100,
      msg: "request completed",
    }),
  ];
  const error = [
    nginxErrorLine(t0 + 2000, "read-timeout", "GET", "/api/report"),
    nginxErrorLine(t0 + 60_000, "connect-refused", "GET", "/api/report"),
    nginxErrorLine(t0 + 61_000, "connect-refused", "GET", "/api/report"),
  ];
  const access = [
    nginxAccessLine({ t: t0 + 2000, status: 504, urt: 2, rt: 2, path: "/api/report" }),
    nginxAccessLine({ t: t0 + 60_000, status: 502, urt: null, path: "/api/report" }),
    nginxAccessLine({ t: t0 + 61_000, status: 502, urt: null, path: "/api/report" }),
  ];
  const findings = analyze(datasetFromLines({ access, error, app, timeouts: { proxyReadTimeout: 2000 } }));
  const read = findings.find((f) => f.id === "proxy-read-timeout");
  const down = findings.find((f) => f.id === "upstream-down");
  assert.ok(read && down, findings.map((f) => f.id).join());
  assert.equal(read.fix.holdfast, undefined);
  assert.equal(down.fix.holdfast, undefined);
  // The address the proxy was refused at, not a made-up port.
  assert.match(down.fix.nginx ?? "", /server 127\.0\.0\.1:3000 max_fails/);
  assert.doesNotMatch(down.fix.nginx ?? "", /your app's address/);
});

test("holdfast's deadline already below the proxy's read timeout is never 'fixed' upwards", () => {
  const access = [0, 1, 2].map((k) => nginxAccessLine({ t: t0 + k * 5000, status: 504, urt: 10, rt: 10, path: "/api/orders" }));
  const app = [holdfastLine(t0 - 60_000, "worker.start", { workerPid: 1 }, "info")];
  const [f] = analyze(datasetFromLines({ access, app, timeouts: { proxyReadTimeout: 10_000, deadline: 1500 } })).filter((x) => x.id === "proxy-read-timeout");
  assert.ok(f);
  assert.equal(f.fix.holdfast, undefined, f.fix.holdfast);
  assert.match(f.fix.summary, /deadline \(1\.5 s\) is already below the proxy's 10 s/);
  assert.match(f.fix.nginx ?? "", /keep above the app deadline \(1\.5s\)/);
});

test("a proxy_read_timeout of 1500ms is quoted as 1500ms, never rounded to a '2s' that claims to be 'as now'", () => {
  const access = [0, 1].map((k) => nginxAccessLine({ t: t0 + k * 5000, status: 504, urt: 1.5, rt: 1.5, path: "/api/search" }));
  const app = ["2026-11-24T14:01:00.000Z INFO catalog: listening on 127.0.0.1:34333"];
  const f = analyze(datasetFromLines({ access, app, timeouts: { proxyReadTimeout: 1500 } })).find((x) => x.id === "proxy-read-timeout");
  assert.match(f?.fix.nginx ?? "", /^proxy_read_timeout 1500ms;/);
});
