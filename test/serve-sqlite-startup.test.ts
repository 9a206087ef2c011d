// Several workers opening the same SQLite file at once (switch to WAL, PRAGMA optimize) all start.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { startHoldfast } from "./support/holdfast-process.js";
import { tempDir } from "./support/temp-dir.js";

const DEMO = new URL("../examples/notes/app.js", import.meta.url).pathname;

test("two workers opening a 50k-row rollback-journal database at the same moment both start (no 'database is locked')", async () => {
  // Failed 4 times in 6 before PRAGMA optimize on open waited for the lock like every other step.
  for (let round = 0; round < 3; round++) {
    const file = join(tempDir("hf-race-"), "app.db");
    const d = new Database(file);
    d.exec(
      "CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, body TEXT NOT NULL DEFAULT '', done INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)",
    );
    const ins = d.prepare("INSERT INTO notes (title, body, done, created_at, updated_at) VALUES (?, ?, ?, ?, ?)");
    d.transaction(() => {
      for (let i = 0; i < 50_000; i++) ins.run(`n${i}`, `b${i}`, i % 2, "x", "x");
    })();
    d.close();
    const hf = await startHoldfast(DEMO, { workers: 2, env: { HOLDFAST_DB_URL: `sqlite:${file}` } });
    try {
      const r = await fetch(`${hf.appUrl}/api/notes?limit=2`);
      assert.equal(r.status, 200);
      assert.equal(((await r.json()) as { notes: unknown[] }).notes.length, 2);
    } finally {
      assert.equal(await hf.stop(), 0);
    }
  }
});
