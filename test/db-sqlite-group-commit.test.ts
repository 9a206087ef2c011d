/** Group commit: writes queued together share one transaction, but a failing write rolls back only itself. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { openDatabase, sql } from "../src/db/index.js";

const dir = mkdtempSync(join(tmpdir(), "holdfast-group-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("100 concurrent writes, every 10th violating a constraint: the 90 others commit, the 10 fail alone", async () => {
  const db = await openDatabase(`sqlite:${join(dir, "group.db")}`);
  try {
    await db.run("CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT NOT NULL UNIQUE)");
    await db.run("INSERT INTO t (k) VALUES ('taken')");
    const outcomes = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        db.run(sql`INSERT INTO t (k) VALUES (${i % 10 === 0 ? "taken" : `k${i}`})`).then(
          () => "ok",
          (e: { code?: string }) => e.code,
        ),
      ),
    );
    assert.equal(outcomes.filter((o) => o === "ok").length, 90);
    assert.equal(outcomes.filter((o) => o === "DB_QUERY_FAILED").length, 10);
    assert.equal((await db.get<{ n: number }>("SELECT count(*) AS n FROM t"))?.n, 91);
    // A batch inside a group is still all-or-nothing.
    const [good, bad] = await Promise.all([
      db.batch([sql`INSERT INTO t (k) VALUES (${"b1"})`, sql`INSERT INTO t (k) VALUES (${"b2"})`]).then(() => "ok"),
      db.batch([sql`INSERT INTO t (k) VALUES (${"b3"})`, sql`INSERT INTO t (k) VALUES (${"taken"})`]).then(
        () => "ok",
        (e: { code?: string }) => e.code,
      ),
    ]);
    assert.deepEqual([good, bad], ["ok", "DB_QUERY_FAILED"]);
    const ks = (await db.query<{ k: string }>("SELECT k FROM t WHERE k LIKE 'b%' ORDER BY k")).map((r) => r.k);
    assert.deepEqual(ks, ["b1", "b2"]);
  } finally {
    await db.close();
  }
});
