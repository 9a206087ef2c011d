import assert from "node:assert/strict";
import { test } from "node:test";
import { analyze } from "../analyze.js";
import { datasetFromLines } from "../dataset-from-lines.js";
import { COMBINED_FORMAT } from "../readers/nginx-access.js";
import { nginxAccessLine } from "../recorded-lines.js";

const t0 = Date.UTC(2026, 10, 24, 14, 2, 0);

/** "2026-11-24 14:02:05,123+0000 ERROR app: …" as a Python logging line with an explicit zone. */
function pyLine(t: number, msg: string, zone = "+0000"): string {
  const d = new Date(t);
  const iso = d.toISOString().replace("T", " ").replace("Z", "").replace(".", ",");
  return `${iso}${zone} ERROR app: ${msg}`;
}

/**
 * The proxy waits 3 s, the app 5 s for the SQLite lock: each request ends as a 504 at 3 s and the
 * app logs "database is locked" 2 s later. Requests start at irregular times, some paths differ.
 */
function inverted(opts: { skewMs?: number; shuffle?: boolean; combined?: boolean; n?: number } = {}) {
  const access: string[] = [];
  const app: string[] = [];
  const n = opts.n ?? 12;
  for (let k = 0; k < n; k++) {
    const start = t0 + k * 7_300 + (k % 3) * 410;
    const end = start + 3000;
    access.push(nginxAccessLine({ t: end, status: 504, rt: 3.0, urt: 3.0, us: "504", method: "POST", path: "/api/orders" }, opts.combined));
    // Successful traffic in between, so the failures are not all there is.
    access.push(nginxAccessLine({ t: start + 1200, status: 200, path: "/api/items" }, opts.combined));
    app.push(pyLine(start + 5000 + (k % 4) * 37 + (opts.skewMs ?? 0), "sqlite3.OperationalError: database is locked"));
  }
  if (opts.shuffle) {
    access.reverse();
    app.reverse();
  }
  return { access, app };
}

test("504s at the proxy's 3 s followed 2 s later by 'database is locked' → timeout-inversion → sqlite-lock → proxy-read-timeout", () => {
  const findings = analyze(datasetFromLines(inverted()));
  const ids = findings.map((f) => f.id);
  assert.deepEqual(ids.slice(0, 3), ["timeout-inversion", "sqlite-lock", "proxy-read-timeout"]);
  const [inv, lock, symptom] = findings;
  assert.deepEqual(inv?.causes, ["sqlite-lock"]);
  assert.deepEqual(lock?.explainedBy, ["timeout-inversion"]);
  assert.deepEqual(lock?.causes, ["proxy-read-timeout"]);
  assert.deepEqual(symptom?.explainedBy, ["sqlite-lock"]);
  assert.equal(inv?.explains, 12);
  assert.equal(lock?.explains, 12, "the cause explains the failures it shares with its symptom");
  assert.equal(symptom?.explains, 12);
  const link = lock?.links?.find((l) => l.to === "proxy-read-timeout");
  assert.ok(link && link.lagMs !== undefined && link.lagMs > 1000 && link.lagMs < 3000, `lag ≈ 2 s: ${JSON.stringify(link)}`);
  assert.match(inv?.evidence.summary ?? "", /waits ≈ 5(\.\d)? s for the SQLite lock/);
  assert.match(inv?.evidence.summary ?? "", /nginx waits 3 s/);
  assert.match(inv?.fix.summary ?? "", /2 s against 3 s/);
  assert.match(inv?.fix.nginx ?? "", /proxy_read_timeout (1[0-9])s;/);
  assert.ok(!findings.some((f) => f.id === "unexplained-failures"));
});

test("inversion survives 3 s of clock skew, lines out of order and $time_local without request time", () => {
  for (const o of [{ skewMs: 3000 }, { skewMs: -2500 }, { shuffle: true }, { combined: true, skewMs: 1500 }]) {
    const { access, app } = inverted(o);
    const data = datasetFromLines(
      o.combined
        ? {
            access,
            app,
            accessFormat: '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"',
            timeouts: { proxyReadTimeout: 3000 } as never,
          }
        : { access, app },
    );
    const ids = analyze(data).map((f) => f.id);
    assert.deepEqual(ids.slice(0, 3), ["timeout-inversion", "sqlite-lock", "proxy-read-timeout"], JSON.stringify(o));
  }
});

test("app log in another zone (no zone written) is shifted to the proxy's clock before joining", () => {
  const { access } = inverted();
  // The app wrote local time two hours ahead of UTC and no zone; the doctor runs in UTC.
  const app: string[] = [];
  for (let k = 0; k < 12; k++) {
    const start = t0 + k * 7_300 + (k % 3) * 410;
    const d = new Date(start + 5000 + 2 * 3_600_000 + new Date(start).getTimezoneOffset() * 60_000);
    const local = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")} ${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}:${String(d.getSeconds()).padStart(2, "0")},${String(d.getMilliseconds()).padStart(3, "0")}`;
    app.push(`${local} ERROR app: sqlite3.OperationalError: database is locked`);
  }
  const findings = analyze(datasetFromLines({ access, app }));
  assert.deepEqual(
    findings.slice(0, 3).map((f) => f.id),
    ["timeout-inversion", "sqlite-lock", "proxy-read-timeout"],
  );
  assert.ok(findings.some((f) => f.id === "app-log-clock" && f.severity === "info"));
});

test("the app answering 503 itself (its wait below the proxy's) is no inversion: sqlite-lock alone", () => {
  const access: string[] = [];
  const app: string[] = [];
  for (let k = 0; k < 8; k++) {
    const start = t0 + k * 5000;
    access.push(nginxAccessLine({ t: start + 2000, status: 503, rt: 2.0, urt: 2.0, us: "503", method: "POST", path: "/api/orders" }));
    app.push(pyLine(start + 1990, "sqlite3.OperationalError: database is locked"));
  }
  const findings = analyze(datasetFromLines({ access, app }));
  assert.equal(findings[0]?.id, "sqlite-lock");
  assert.equal(findings[0]?.explains, 8);
  assert.ok(!findings.some((f) => f.id === "timeout-inversion"));
  assert.ok(!findings.some((f) => f.id === "proxy-read-timeout"));
});

test("unrelated lock errors far from the 504s do not make a chain", () => {
  const { access } = inverted({ n: 6 });
  const app = [pyLine(t0 + 3_600_000, "sqlite3.OperationalError: database is locked"), pyLine(t0 + 3_700_000, "sqlite3.OperationalError: database is locked")];
  const findings = analyze(datasetFromLines({ access, app }));
  assert.equal(findings[0]?.id, "proxy-read-timeout");
  assert.ok(!findings.some((f) => f.id === "timeout-inversion"));
  const lock = findings.find((f) => f.id === "sqlite-lock");
  assert.deepEqual(lock?.causes, []);
});

test("dense 504s cut to the second: the join is by time and path only, so no link states a lag it did not measure", () => {
  const access: string[] = [];
  const app: string[] = [];
  // A write every 0.4 s; each times out at 3 s. The first five log their lock error 2 s after their
  // 504, right when later requests time out: the nearest 504 to each error is a neighbour's.
  for (let k = 0; k < 10; k++) {
    const start = t0 + k * 400;
    access.push(nginxAccessLine({ t: start + 3000, status: 504, method: "POST", path: "/api/orders" }, true));
    if (k < 5) app.push(pyLine(start + 5000, "sqlite3.OperationalError: database is locked"));
  }
  const findings = analyze(datasetFromLines({ access, app, accessFormat: COMBINED_FORMAT, timeouts: { proxyReadTimeout: 3000 } }));
  const inv = findings.find((f) => f.id === "timeout-inversion");
  if (inv && inv.evidence.counts.lagMs !== undefined)
    assert.ok(inv.evidence.counts.lagMs > 1000, `counts.lagMs must be measured: ${inv.evidence.counts.lagMs}`);
  const links = findings.flatMap((f) => f.links ?? []).filter((l) => l.to === "sqlite-lock" || l.to === "proxy-read-timeout");
  assert.ok(links.length > 0, findings.map((f) => f.id).join());
  for (const l of links) {
    if (l.lagMs === undefined) assert.doesNotMatch(l.evidence, /within|logged [\d.]+ s/, l.evidence);
    else assert.ok(l.lagMs > 1000, `a stated lag must be the real one (≈ 2 s): ${JSON.stringify(l)}`);
  }
});

test("gunicorn kills stuck workers after the proxy's 504s: the measured kill time says it is ± 1 s when both logs write whole seconds", () => {
  const access: string[] = [];
  const app: string[] = [];
  for (let k = 0; k < 3; k++) {
    const start = t0 + k * 20_000;
    access.push(nginxAccessLine({ t: start + 2000, status: 504, rt: 2.0, urt: 2.0, us: "504", path: "/api/export" }));
    const kill = new Date(start + 5000);
    app.push(`[${kill.toISOString().slice(0, 19).replace("T", " ")} +0000] [4100] [CRITICAL] WORKER TIMEOUT (pid:${4121 + k})`);
  }
  const findings = analyze(datasetFromLines({ access, app, timeouts: { proxyReadTimeout: 2000 } }));
  const inv = findings.find((f) => f.id === "timeout-inversion");
  assert.ok(inv, findings.map((f) => f.id).join());
  assert.match(inv.evidence.summary, /gunicorn waits ≈ [\d.]+ s \(median time from a timed-out request's start to the kill; ± 1 s/);
});
