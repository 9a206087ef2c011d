import assert from "node:assert/strict";
import { test } from "node:test";
import { runRule } from "../analyze.js";
import { datasetFromLines } from "../dataset-from-lines.js";
import { holdfastLine, nginxAccessLine, } from "../recorded-lines.js";
import { sqliteLock } from "./sqlite-lock.js";

const t0 = Date.UTC(2026, 10, 24, 14, 2, 0);

test("503s right after db.locked events that waited the busy timeout", () => {
  const app = [holdfastLine(t0, "db.locked", { waitedMs: 5000, path: "/srv/app/data/app.db" })];
  const access = [nginxAccessLine({ t: t0 + 300, status: 503, urt: 5.2 })];
  const [f] = runRule(sqliteLock, datasetFromLines({ access, app }));
  assert.equal(f?.explains, 1);
  assert.match(f?.evidence.summary ?? "", /Longest wait 5000 ms/);
});

test("'database is locked' from a Python stack", () => {
  const app = ["2026-11-24 14:02:05,120 ERROR app.views: sqlite3.OperationalError: database is locked"];
  assert.equal(runRule(sqliteLock, datasetFromLines({ app }))[0]?.id, "sqlite-lock");
});

test("an instant lock error is not contention (see sqlite-deferred-busy)", () => {
  assert.deepEqual(runRule(sqliteLock, datasetFromLines({ app: [holdfastLine(t0, "db.locked", { waitedMs: 0 })] })), []);
});
