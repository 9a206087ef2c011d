import assert from "node:assert/strict";
import { test } from "node:test";
import { runRule } from "../analyze.js";
import { datasetFromLines } from "../dataset-from-lines.js";
import { holdfastLine } from "../recorded-lines.js";
import { walGrowth } from "./wal-growth.js";

const t0 = Date.UTC(2026, 10, 24, 14, 2, 0);

test("wal.size events growing past 64 MB", () => {
  const app = [10, 80, 300].map((mb, i) => holdfastLine(t0 + i * 60_000, "wal.size", { walBytes: mb * 1024 * 1024, path: "/srv/app/data/app.db" }));
  const [f] = runRule(walGrowth, datasetFromLines({ app }));
  assert.match(f?.evidence.summary ?? "", /300 MB .*still growing/);
  assert.equal(f?.fix.action?.kind, "sqlite-checkpoint");
});

test("a small WAL is fine", () => {
  assert.deepEqual(runRule(walGrowth, datasetFromLines({ app: [holdfastLine(t0, "wal.size", { walBytes: 4096 })] })), []);
});

test("the SQLite probe's WAL size counts too", () => {
  const [f] = runRule(walGrowth, datasetFromLines({ probes: { sqlite: [{ path: "/srv/app.db", walBytes: 200 * 1024 * 1024 }] } }));
  assert.equal(f?.fix.action?.path, "/srv/app.db");
});
