import assert from "node:assert/strict";
import { test } from "node:test";
import { runRule } from "../analyze.js";
import { datasetFromLines } from "../dataset-from-lines.js";
import { holdfastLine, nginxAccessLine } from "../recorded-lines.js";
import { sqliteDeferredBusy } from "./sqlite-deferred-busy.js";

const t0 = Date.UTC(2026, 10, 24, 14, 2, 0);

test("db.busy and instant db.locked are deferred-transaction SQLITE_BUSY", () => {
  const app = [holdfastLine(t0, "db.busy", {}), holdfastLine(t0 + 10, "db.locked", { waitedMs: 1 })];
  const access = [nginxAccessLine({ t: t0 + 100, status: 503, urt: 0.01 })];
  const [f] = runRule(sqliteDeferredBusy, datasetFromLines({ access, app }));
  assert.equal(f?.explains, 1);
  assert.equal(f?.evidence.counts.events, 2);
  assert.match(f?.fix.summary ?? "", /BEGIN IMMEDIATE/);
});
