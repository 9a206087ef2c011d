/** A slow SQLite read cannot hold a request past its deadline, and cannot freeze the event loop. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { Deadline, runWithContext } from "../src/context/index.js";
import { openDatabase } from "../src/db/index.js";
import { eventually } from "./support/wait.js";

const dir = mkdtempSync(join(tmpdir(), "holdfast-deadline-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Half a second to a few seconds of CPU in SQLite (machine-dependent): count to 5 million with a recursive CTE. */
const SLOW = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000000) SELECT count(*) AS n FROM c";

test("a read still running when the request deadline passes answers DEADLINE_EXCEEDED at the deadline; the loop stays responsive", async () => {
  const db = await openDatabase(`sqlite:${join(dir, "slow.db")}`);
  try {
    // Without a deadline the query completes: it is slow, not broken.
    const t0 = performance.now();
    const full = await db.get<{ n: number }>(SLOW);
    const fullMs = performance.now() - t0;
    assert.equal(full?.n, 5_000_000);
    assert.ok(fullMs > 400, `the slow query took only ${fullMs} ms; make it slower for this test to mean anything`);

    let maxGap = 0;
    let last = performance.now();
    const tick = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 5);
    const t = performance.now();
    const outcome = await runWithContext({ requestId: "slow", deadline: Deadline.after(200), signal: new AbortController().signal }, () =>
      db.get(SLOW).then(
        () => "completed",
        (e: { code?: string }) => e.code,
      ),
    );
    const ms = performance.now() - t;
    clearInterval(tick);
    console.log(
      `slow query alone ${fullMs.toFixed(0)} ms; with a 200 ms deadline: ${outcome} after ${ms.toFixed(0)} ms; largest timer gap ${maxGap.toFixed(1)} ms`,
    );
    assert.equal(outcome, "DEADLINE_EXCEEDED");
    assert.ok(ms < Math.min(fullMs, 400), `answered after ${ms} ms, the deadline was 200 ms`);
    assert.ok(maxGap < 100, `the event loop stalled for ${maxGap} ms`);
  } finally {
    await db.close();
  }
});

test("db.statementTimeout caps a read's run time outside any request", async () => {
  // The fast read below waits for the slow one to finish on the one reader thread: seconds on a busy machine.
  const db = await openDatabase(`sqlite:${join(dir, "cap.db")}`, { statementTimeout: 150, pool: { acquireTimeout: 60_000 } });
  try {
    const t = performance.now();
    await assert.rejects(
      db.get(SLOW),
      (e: Error & { code?: string; details?: Record<string, unknown> }) =>
        e.code === "DEADLINE_EXCEEDED" && e.details?.cancelledBy === "statementTimeout" && /db\.statementTimeout/.test(e.message),
    );
    const ms = performance.now() - t;
    assert.ok(ms < 400, `answered after ${ms} ms with a 150 ms statement timeout`);
    assert.equal((await db.get<{ one: number }>("SELECT 1 AS one"))?.one, 1, "fast reads still work (after the slow one finishes on its thread)");
  } finally {
    await db.close();
  }
});

test("reads queued behind a busy reader are bounded: POOL_QUEUE_FULL past db.pool.maxWaiting, POOL_TIMEOUT past db.pool.acquireTimeout", async () => {
  const db = await openDatabase(`sqlite:${join(dir, "queue.db")}`, { sqlite: { readers: 1 }, pool: { maxWaiting: 5, acquireTimeout: 250 } });
  try {
    const slow = db.get(SLOW).catch(() => undefined); // occupies the only reader thread
    await eventually(() => db.status().pool.busy >= 1, 5_000, "the slow read on the reader thread");
    const t = performance.now();
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () =>
        db.get("SELECT 1 AS one").then(
          () => ({ code: "ok", ms: performance.now() - t }),
          (e: { code?: string }) => ({ code: e.code, ms: performance.now() - t }),
        ),
      ),
    );
    const full = outcomes.filter((o) => o.code === "POOL_QUEUE_FULL");
    const timedOut = outcomes.filter((o) => o.code === "POOL_TIMEOUT");
    assert.equal(full.length, 5, JSON.stringify(outcomes));
    assert.ok(
      full.every((o) => o.ms < 50),
      "a full queue fails at once",
    );
    assert.equal(timedOut.length, 5, JSON.stringify(outcomes));
    assert.ok(
      timedOut.every((o) => o.ms >= 200 && o.ms < 600),
      `queued reads time out at about 250 ms: ${JSON.stringify(timedOut)}`,
    );
    const s = db.status();
    assert.ok(s.pool.queueFull >= 5 && s.pool.timeouts >= 5, JSON.stringify(s.pool));
    await slow;
  } finally {
    await db.close();
  }
});
