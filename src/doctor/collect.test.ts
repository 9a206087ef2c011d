import assert from "node:assert/strict";
import { test } from "node:test";
import { collectLines, emptyDataset } from "./collect.js";
import { nginxAccessReader } from "./readers/nginx-access.js";
import { nginxAccessLine, UPSTREAM_TIMING_FORMAT } from "./recorded-lines.js";

test("--since/--until on the fast path count exactly what a full parse of every line counts", () => {
  const t0 = Date.UTC(2026, 10, 24, 14, 0, 0);
  const lines: string[] = [];
  for (let i = 0; i < 5000; i++) lines.push(nginxAccessLine({ t: t0 + i * 137, status: i % 97 === 0 ? 502 : i % 13 === 0 ? 404 : 200 }));
  lines.splice(100, 0, "garbage in the middle", nginxAccessLine({ t: t0, status: 200 }).replace("Nov", "Foo"));
  const since = t0 + 60_000;
  const until = t0 + 400_000;
  const reader = nginxAccessReader(UPSTREAM_TIMING_FORMAT);
  const expected: Record<string, number> = {};
  let outside = 0;
  for (const l of lines) {
    const r = reader.parse(l);
    if (!r) continue;
    if (r.time < since || r.time >= until) outside++;
    else expected[r.status] = (expected[r.status] ?? 0) + 1;
  }
  const d = emptyDataset();
  const stats = collectLines(d, "nginx-access", lines, "access.log", { since, until, nginxLogFormat: UPSTREAM_TIMING_FORMAT });
  assert.deepEqual(d.statusCounts, expected);
  assert.equal(stats.outOfWindow, outside);
  assert.equal(stats.garbage, 2);
  assert.ok(d.failures.every((f) => f.record.time >= since && f.record.time < until));
});
