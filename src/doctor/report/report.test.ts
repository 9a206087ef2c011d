import assert from "node:assert/strict";
import { test } from "node:test";
import { analyze, isHealthy } from "../analyze.js";
import { datasetFromLines } from "../dataset-from-lines.js";
import { nginxAccessLine } from "../recorded-lines.js";
import { toJson } from "./json.js";
import { toMarkdown, toText } from "./text.js";

const t0 = Date.UTC(2026, 10, 24, 14, 2, 0);

/** 504s at nginx's 3 s, the app's "database is locked" 2 s later: a three-link chain. */
function result() {
  const access: string[] = [];
  const app: string[] = [];
  for (let k = 0; k < 8; k++) {
    const start = t0 + k * 6100;
    access.push(nginxAccessLine({ t: start + 3000, status: 504, rt: 3, urt: 3, us: "504", method: "POST", path: "/api/orders" }));
    app.push(`${new Date(start + 5000).toISOString()} ERROR app: sqlite3.OperationalError: database is locked`);
  }
  const data = datasetFromLines({ access, app });
  const findings = analyze(data);
  return { findings, healthy: isHealthy(findings), data };
}

test("text: the root cause is numbered 1, what it produces indented under it as 1.1 and 1.1.1, each link with its lag", () => {
  const text = toText(result());
  const heads = text.split("\n").filter((l) => /^\s*\d+(\.\d+)*\. \[/.test(l));
  assert.match(heads[0] ?? "", /^1\. \[ERROR\] Timeout inversion/);
  assert.match(heads[1] ?? "", /^ {3}1\.1\. \[ERROR\] SQLite lock contention/);
  assert.match(heads[2] ?? "", /^ {6}1\.1\.1\. \[ERROR\] Proxy read timeout/);
  assert.match(text, /→ produces sqlite-lock \(8 requests · lag [12]\.\d s \(cause logged after the effect\)/);
  assert.match(text, /produced by sqlite-lock/);
  assert.match(toMarkdown(result()), /\| 1\.1\.1 \| error \| Proxy read timeout.*\| sqlite-lock \|/);
});

test("json: findings in chain order with layer, causes, explainedBy and links (lag in ms)", () => {
  const report = JSON.parse(toJson(result())) as {
    findings: { id: string; layer: string; causes: string[]; explainedBy: string[]; links: { from: string; to: string; shared: number; lagMs?: number }[] }[];
  };
  assert.deepEqual(
    report.findings.slice(0, 3).map((f) => [f.id, f.layer, f.causes, f.explainedBy]),
    [
      ["timeout-inversion", "config", ["sqlite-lock"], []],
      ["sqlite-lock", "app", ["proxy-read-timeout"], ["timeout-inversion"]],
      ["proxy-read-timeout", "symptom", [], ["sqlite-lock"]],
    ],
  );
  const link = report.findings[1]?.links.find((l) => l.to === "proxy-read-timeout");
  assert.equal(link?.shared, 8);
  assert.ok(link?.lagMs !== undefined && link.lagMs > 1500 && link.lagMs < 2500, JSON.stringify(link));
});

test("text: a line the chain's links share is quoted once, where it first appears, and pointed to after", () => {
  const text = toText(result());
  const quotes = text.split("\n").filter((l) => /^\s+app\.log:\d+ {2}/.test(l) || /^\s+access\.log:\d+ {2}/.test(l));
  const keys = quotes.map((l) => l.trim().split(/\s+/)[0]);
  assert.equal(new Set(keys).size, keys.length, quotes.join("\n"));
  assert.match(text, /also (?:app|access)\.log:\d+ \(quoted under 1(?:\.1)?\)/);
});

test("text: a link that shares no failed request (servers marked down by earlier failures) says its lag, not '0 requests'", () => {
  const data = datasetFromLines({});
  const base = { severity: "critical" as const, confidence: 0.9, evidence: { summary: "s", counts: {}, samples: [] }, fix: { summary: "f" } };
  const link = { from: "upstream-down", to: "all-upstreams-down", shared: 0, lagMs: 100, evidence: "they marked the servers down." };
  const findings = [
    { ...base, id: "upstream-down", title: "Upstream down", explains: 5, causes: ["all-upstreams-down"], explainedBy: [], links: [link] },
    { ...base, id: "all-upstreams-down", title: "All down", explains: 31, causes: [], explainedBy: ["upstream-down"], links: [link] },
  ];
  const text = toText({ findings, healthy: false, data });
  assert.match(text, /→ produces all-upstreams-down \(lag < 0\.5 s\): they marked/);
  assert.doesNotMatch(text, /0 requests/);
});
