/**
 * What holdfast does with the SQLite file itself: never overwrites a file that is not a database,
 * creates a missing directory, names permission problems, keeps the WAL bounded.
 */
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import BetterSqlite3 from "better-sqlite3";
import { pino } from "pino";
import { openDatabase, type SqliteDatabase } from "../src/db/index.js";

const dir = mkdtempSync(join(tmpdir(), "holdfast-files-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function codeOf(e: unknown): string | undefined {
  return (e as { code?: string }).code;
}

test("a file that is not a SQLite database fails with DB_CORRUPT naming the path, and is left untouched", async () => {
  const path = join(dir, "notes.db");
  const content = `${"this is a text file, not a database\n".repeat(200)}`;
  writeFileSync(path, content);
  await assert.rejects(
    openDatabase(`sqlite:${path}`),
    (e: Error) => codeOf(e) === "DB_CORRUPT" && e.message.includes(path) && /did not modify/.test(e.message),
  );
  assert.equal(readFileSync(path, "utf8"), content);
  assert.ok(!existsSync(`${path}-wal`), "no WAL was created beside it");
});

test("a missing parent directory is created", async () => {
  const path = join(dir, "a", "b", "c", "app.db");
  const db = await openDatabase(`sqlite:${path}`);
  await db.run("CREATE TABLE t (x)");
  await db.close();
  assert.ok(existsSync(path));
});

test("a directory in place of the file, or an unwritable file, fails with DB_UNAVAILABLE saying what to check", async (t) => {
  const asDir = join(dir, "isdir.db");
  mkdirSync(asDir);
  await assert.rejects(openDatabase(`sqlite:${asDir}`), (e: Error) => codeOf(e) === "DB_UNAVAILABLE" && /is a directory/.test(e.message));
  if (process.getuid?.() === 0) {
    t.diagnostic("running as root: file permissions do not apply, so the read-only case cannot be shown here");
    return;
  }
  const ro = join(dir, "ro.db");
  const db = await openDatabase(`sqlite:${ro}`);
  await db.close();
  chmodSync(ro, 0o444);
  await assert.rejects(openDatabase(`sqlite:${ro}`), (e: Error) => codeOf(e) === "DB_UNAVAILABLE" && /readable and writable/.test(e.message));
});

test("the checkpoint manager keeps the WAL under journalSizeLimit even with autocheckpoint effectively off", async () => {
  const path = join(dir, "wal.db");
  const limit = 512 * 1024;
  const db = (await openDatabase(`sqlite:${path}`, {
    sqlite: { journalSizeLimit: limit, walAutocheckpoint: 1_000_000, checkpointInterval: 100 },
  })) as SqliteDatabase;
  try {
    await db.run("CREATE TABLE blobs (id INTEGER PRIMARY KEY, b BLOB)");
    const chunk = new Uint8Array(64 * 1024);
    for (let i = 0; i < 60; i++) await db.run("INSERT INTO blobs (b) VALUES (?)", [chunk]);
    // 60 × 64 KiB went through the WAL (~4 MB); with autocheckpoint effectively off only the
    // checkpoint manager can bring it back under the limit.
    const until = performance.now() + 3000;
    while (performance.now() < until && (db.status().sqlite?.walBytes ?? 0) > limit) await new Promise((r) => setTimeout(r, 50));
    const s = db.status().sqlite;
    assert.ok((s?.walBytes ?? Number.POSITIVE_INFINITY) <= limit, `WAL is ${s?.walBytes} bytes, limit ${limit}`);
    assert.ok(s?.lastCheckpoint, "status() reports the last checkpoint");
    const manual = await db.checkpoint("TRUNCATE");
    assert.equal(manual?.walBytes, 0);
    assert.equal((await db.get<{ n: number }>("SELECT count(*) AS n FROM blobs"))?.n, 60);
  } finally {
    await db.close();
  }
});

test("a reader holding an old snapshot starves checkpoints: holdfast says so, then truncates the WAL once it lets go", async () => {
  const path = join(dir, "starved.db");
  const limit = 256 * 1024;
  const logged: Record<string, unknown>[] = [];
  const log = pino({ level: "info" }, { write: (line: string) => void logged.push(JSON.parse(line)) });
  const db = (await openDatabase(`sqlite:${path}`, {
    sqlite: { journalSizeLimit: limit, walAutocheckpoint: 1_000_000, checkpointInterval: 100 },
    log,
  })) as SqliteDatabase;
  const reader = new BetterSqlite3(path);
  try {
    await db.run("CREATE TABLE blobs (id INTEGER PRIMARY KEY, b BLOB)");
    reader.exec("BEGIN");
    reader.prepare("SELECT count(*) FROM blobs").get(); // holds a snapshot from before the writes
    const chunk = new Uint8Array(64 * 1024);
    for (let i = 0; i < 20; i++) await db.run("INSERT INTO blobs (b) VALUES (?)", [chunk]);
    const until = performance.now() + 3000;
    while (performance.now() < until && !logged.some((l) => l.event === "db.checkpoint.starved")) await new Promise((r) => setTimeout(r, 50));
    const starved = logged.find((l) => l.event === "db.checkpoint.starved");
    assert.ok(starved, "a db.checkpoint.starved warning names the problem");
    assert.ok((starved.walBytes as number) > limit);
    assert.ok(
      logged.some((l) => l.event === "wal.size"),
      "wal.size events report the WAL each round",
    );
    reader.exec("COMMIT");
    const until2 = performance.now() + 3000;
    while (performance.now() < until2 && (db.status().sqlite?.walBytes ?? 0) > limit) await new Promise((r) => setTimeout(r, 50));
    assert.ok((db.status().sqlite?.walBytes ?? Number.POSITIVE_INFINITY) <= limit, `WAL still ${db.status().sqlite?.walBytes} bytes after the reader let go`);
  } finally {
    if (reader.inTransaction) reader.exec("COMMIT");
    reader.close();
    await db.close();
  }
});

test("a rollback-journal file held by another process is switched to WAL once that process lets go, not refused", async () => {
  const path = join(dir, "rollback.db");
  const raw = new BetterSqlite3(path);
  raw.pragma("journal_mode = DELETE");
  raw.exec("CREATE TABLE t (x)");
  raw.close();
  const bs3 = createRequire(import.meta.url).resolve("better-sqlite3");
  const code = `const d = new (require(${JSON.stringify(bs3)}))(${JSON.stringify(path)}); d.exec("BEGIN"); d.prepare("SELECT * FROM t").all(); console.log("held"); setTimeout(() => d.exec("COMMIT"), 600);`;
  const child = spawn(process.execPath, ["-e", code], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise((r) => child.stdout?.once("data", r));
  const t = performance.now();
  const db = await openDatabase(`sqlite:${path}`);
  try {
    const waited = performance.now() - t;
    const check = new BetterSqlite3(path, { readonly: true });
    assert.equal(check.pragma("journal_mode", { simple: true }), "wal", "the file itself is now in WAL mode");
    check.close();
    assert.ok(waited >= 300, `opened after ${waited} ms although the other process held its read lock for 600 ms`);
  } finally {
    await db.close();
    child.kill();
  }
});

test("a write sent through query() (INSERT … RETURNING) is routed to the writer and returns its rows", async () => {
  const db = await openDatabase(`sqlite:${join(dir, "returning.db")}`);
  try {
    await db.run("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    const rows = await db.query<{ id: number }>("INSERT INTO t (v) VALUES ('a'), ('b') RETURNING id");
    assert.deepEqual(
      rows.map((r) => r.id),
      [1, 2],
    );
    assert.equal((await db.get<{ n: number }>("SELECT count(*) AS n FROM t"))?.n, 2);
  } finally {
    await db.close();
  }
});

test("db.run() inside db.transaction() fails fast instead of deadlocking on the writer it holds", async () => {
  const db = await openDatabase(`sqlite:${join(dir, "nested.db")}`);
  try {
    await db.run("CREATE TABLE t (x)");
    await assert.rejects(
      db.transaction(async () => {
        await db.run("INSERT INTO t VALUES (1)");
      }),
      (e: Error) => codeOf(e) === "DB_QUERY_FAILED" && /Use the `tx` argument/.test(e.message),
    );
    assert.equal((await db.get<{ n: number }>("SELECT count(*) AS n FROM t"))?.n, 0);
  } finally {
    await db.close();
  }
});

test("reader connections get db.sqlite.readerCacheSize and db.sqlite.mmapSize; the writer keeps SQLite's defaults", async () => {
  const path = join(dir, "tuned.db");
  const tuned = await openDatabase(`sqlite:${path}`, { sqlite: { mmapSize: 64 * 1024 * 1024, readerCacheSize: 32 * 1024 * 1024 } });
  try {
    await tuned.run("CREATE TABLE t (x)");
    // A read goes to a reader thread; inside a transaction the statement runs on the writer.
    assert.deepEqual(await tuned.get("PRAGMA mmap_size"), { mmap_size: 64 * 1024 * 1024 });
    assert.deepEqual(await tuned.get("PRAGMA cache_size"), { cache_size: -32 * 1024 });
    assert.deepEqual(await tuned.transaction((tx) => tx.get("PRAGMA mmap_size")), { mmap_size: 0 });
    assert.notDeepEqual(await tuned.transaction((tx) => tx.get("PRAGMA cache_size")), { cache_size: -32 * 1024 }, "the writer keeps the build's default cache");
  } finally {
    await tuned.close();
  }
  const defaults = await openDatabase(`sqlite:${path}`);
  try {
    assert.deepEqual(await defaults.get("PRAGMA mmap_size"), { mmap_size: 0 }, "mapping is off by default");
    assert.deepEqual(await defaults.get("PRAGMA cache_size"), { cache_size: -64 * 1024 }, "64 MB reader cache by default");
  } finally {
    await defaults.close();
  }
});
