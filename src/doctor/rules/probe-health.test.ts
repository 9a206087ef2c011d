import assert from "node:assert/strict";
import { test } from "node:test";
import { runRule } from "../analyze.js";
import { datasetFromLines } from "../dataset-from-lines.js";
import { probeHealth } from "./probe-health.js";

test("a rollback-journal SQLite database and a failed quick_check", () => {
  const ids = runRule(
    probeHealth,
    datasetFromLines({
      probes: {
        sqlite: [
          { path: "/a.db", journalMode: "delete", quickCheck: "ok" },
          { path: "/b.db", journalMode: "wal", quickCheck: "*** in database main ***" },
        ],
      },
    }),
  ).map((f) => f.id);
  assert.deepEqual(ids.sort(), ["sqlite-corrupt", "sqlite-not-wal"]);
});

test("idle-in-transaction sessions and lock waits in PostgreSQL", () => {
  const ids = runRule(
    probeHealth,
    datasetFromLines({ probes: { postgres: { url: "postgres://x", idleInTransaction: 3, oldestIdleInTransactionS: 400, waitingLocks: 2, longQueries: [] } } }),
  ).map((f) => f.id);
  assert.deepEqual(ids, ["pg-idle-in-transaction", "pg-lock-waits"]);
});
