import assert from "node:assert/strict";
import { test } from "node:test";
import { analyze, isHealthy, rankFindings } from "./analyze.js";
import { datasetFromLines } from "./dataset-from-lines.js";
import { holdfastLine, nginxAccessLine, nginxErrorLine } from "./recorded-lines.js";
import type { Finding, Rule } from "./types.js";

const t0 = Date.UTC(2026, 10, 24, 14, 2, 0);

function finding(id: string, explains: number, severity: Finding["severity"], confidence = 0.5): Finding {
  return { id, title: id, severity, confidence, explains, evidence: { summary: "", counts: {}, samples: [] }, fix: { summary: "" } };
}

test("ranked by failed requests explained, then severity, then confidence", () => {
  const ranked = rankFindings([
    finding("a", 0, "critical"),
    finding("b", 12, "warning"),
    finding("c", 12, "error"),
    finding("d", 400, "info"),
    finding("e", 12, "error", 0.9),
  ]);
  assert.deepEqual(
    ranked.map((f) => f.id),
    ["d", "e", "c", "b", "a"],
  );
});

test("several causes in one incident: the one behind most 502s comes first, each counted once", () => {
  const access: string[] = [];
  const error: string[] = [];
  const app: string[] = [];
  // 30 502s around three watchdog kills …
  for (let k = 0; k < 3; k++) {
    const t = t0 + k * 60_000;
    app.push(holdfastLine(t, "worker.timeout", { workerPid: 4121 + k, heartbeatAgeMs: 30_000 }));
    for (let i = 0; i < 10; i++) access.push(nginxAccessLine({ t: t - 5000 + i * 100, status: 502, urt: 25 }));
  }
  // … 5 refused connections long after, and 2 read timeouts.
  for (let i = 0; i < 5; i++) {
    access.push(nginxAccessLine({ t: t0 + 600_000 + i * 1000, status: 502, urt: null }));
    error.push(nginxErrorLine(t0 + 600_000 + i * 1000, "connect-refused"));
  }
  for (let i = 0; i < 2; i++) {
    access.push(nginxAccessLine({ t: t0 + 900_000 + i * 1000, status: 504, urt: 60, path: "/api/report" }));
    error.push(nginxErrorLine(t0 + 900_000 + i * 1000, "read-timeout", "GET", "/api/report"));
  }
  const findings = analyze(datasetFromLines({ access, error, app }));
  assert.deepEqual(
    findings.slice(0, 3).map((f) => [f.id, f.explains]),
    [
      ["worker-killed", 30],
      ["upstream-down", 5],
      ["proxy-read-timeout", 2],
    ],
  );
  assert.ok(!findings.some((f) => f.id === "unexplained-failures"), "every failure has a cause");
  assert.equal(isHealthy(findings), false);
});

test("a rule that throws becomes an info finding; the others still run", () => {
  const broken: Rule = {
    id: "broken",
    summary: "",
    run() {
      throw new Error("boom");
    },
  };
  const findings = analyze(datasetFromLines({}), [broken]);
  assert.equal(findings[0]?.id, "rule-failed/broken");
  assert.equal(findings[0]?.severity, "info");
  assert.equal(isHealthy(findings), true);
});

test("only successes: healthy, nothing to report", () => {
  const access = Array.from({ length: 100 }, (_, i) => nginxAccessLine({ t: t0 + i * 1000, status: i % 10 ? 200 : 404 }));
  const findings = analyze(datasetFromLines({ access }));
  assert.deepEqual(findings, []);
});

test("app log: successful request events are counted without being kept; 5xx request events are kept", async () => {
  const { collectLines, emptyDataset } = await import("./collect.js");
  const d = emptyDataset();
  const lines = [
    holdfastLine(t0, "request", { reqId: "a", method: "GET", path: "/", status: 200, durationMs: 3 }, "info"),
    holdfastLine(t0, "request", { reqId: "b", method: "GET", path: "/", status: 404, durationMs: 3 }, "info"),
    holdfastLine(t0, "request", { reqId: "c", method: "GET", path: "/x", status: 503, durationMs: 3 }, "info"),
    '{"event":"request","status":200,',
  ];
  const stats = collectLines(d, "app", lines);
  assert.equal(d.appRequests, 3);
  assert.deepEqual(
    d.appEvents.map((e) => e.record.reqId),
    ["c"],
  );
  assert.equal(stats.records, 3);
  assert.equal(stats.garbage, 1, "a truncated line is garbage, fast path or not");
});

test("a failed request two causes could explain is counted once, under the cause that explains more", () => {
  const app = [
    holdfastLine(t0, "pool.timeout", { waitedMs: 2000, max: 10 }),
    holdfastLine(t0 + 20_000, "pool.timeout", { waitedMs: 2000, max: 10 }),
    holdfastLine(t0 + 20_100, "db.locked", { waitedMs: 5000 }),
  ];
  const access = [nginxAccessLine({ t: t0 + 500, status: 503, urt: 2 }), nginxAccessLine({ t: t0 + 20_500, status: 503, urt: 2 })];
  const findings = analyze(datasetFromLines({ access, app }));
  const pool = findings.find((f) => f.id === "pool-exhaustion");
  const lock = findings.find((f) => f.id === "sqlite-lock");
  assert.equal(pool?.explains, 2);
  assert.equal(lock?.explains, 0);
  assert.equal(lock?.evidence.counts.countedUnderOtherCauses, 1);
  assert.match(lock?.evidence.summary ?? "", /counted under a cause ranked above/);
  assert.equal(
    findings.reduce((n, f) => n + f.explains, 0),
    2,
    "never more than the failures there were",
  );
});

test("an error log written two hours off (server in another zone) is shifted until it joins the access log", () => {
  const access: string[] = [];
  const error: string[] = [];
  for (let i = 0; i < 4; i++) {
    const t = t0 + i * 60_000;
    access.push(nginxAccessLine({ t, status: 502, urt: null, path: "/api/orders" }));
    error.push(nginxErrorLine(t + 2 * 3_600_000, "connect-refused", "GET", "/api/orders"));
  }
  const findings = analyze(datasetFromLines({ access, error }));
  assert.equal(findings.find((f) => f.id === "upstream-down")?.explains, 4);
  assert.match(findings.find((f) => f.id === "error-log-clock")?.evidence.summary ?? "", /ahead of the access log by 2 h/);
});

test("5xx the app answered itself with no event to explain them become app-errors; nothing is left unexplained", () => {
  const access = [
    nginxAccessLine({ t: t0, status: 500, urt: 0.02, path: "/api/cart" }),
    nginxAccessLine({ t: t0 + 1000, status: 500, urt: 0.02, path: "/api/cart" }),
    nginxAccessLine({ t: t0 + 2000, status: 503, urt: 0.01, path: "/api/cart" }),
  ];
  const findings = analyze(datasetFromLines({ access }));
  assert.deepEqual(
    findings.map((f) => [f.id, f.explains, f.severity]),
    [["app-errors", 3, "warning"]],
  );
  assert.match(findings[0]?.evidence.summary ?? "", /\/api\/cart \(3\)/);
  assert.equal(isHealthy(findings), false, "failed requests are a problem even when the doctor cannot name the cause");
});
