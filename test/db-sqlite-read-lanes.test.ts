/**
 * A short read does not wait behind a queue of long reads on the reader thread: long statements
 * (table scans) go one per message, short ones together, in turns (src/db/sqlite/reader-pool.ts).
 * Checked by completion order on a real file with one reader thread, so no timing is asserted.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { openDatabase, sql } from "../src/db/index.js";

const dir = mkdtempSync(join(tmpdir(), "holdfast-lanes-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("a point read queued behind five table scans waits for at most one of them", async () => {
  const db = await openDatabase(`sqlite:${join(dir, "lanes.db")}`, { sqlite: { readers: 1 } });
  try {
    await db.run("CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL)");
    const rows = [];
    for (let i = 0; i < 200_000; i++) rows.push(sql`INSERT INTO notes (title, body) VALUES (${`note ${i}`}, ${"lorem ipsum ".repeat(8)})`);
    for (let i = 0; i < rows.length; i += 5000) await db.batch(rows.slice(i, i + 5000));
    // A title search that matches nothing scans the table (milliseconds); the point read is microseconds.
    const scan = (n: number) => db.query(sql`SELECT * FROM notes WHERE title LIKE ${`%${n}x%`} LIMIT 20`);
    const point = () => db.get(sql`SELECT * FROM notes WHERE id = ${7}`);
    // Enough runs for each statement's profile to know its cost, too few (< 32) to run the point read inline.
    for (let i = 0; i < 4; i++) {
      await scan(i);
      await point();
    }
    const done: string[] = [];
    const scans = [0, 1, 2, 3, 4].map((n) => scan(n).then(() => done.push(`scan ${n}`)));
    const read = point().then(() => done.push("point"));
    await Promise.all([...scans, read]);
    const at = done.indexOf("point");
    assert.ok(
      at <= 1,
      `the point read finished after ${at} scans (order: ${done.join(", ")}); it may wait for the one scan already running, not for the queue`,
    );
  } finally {
    await db.close();
  }
});
