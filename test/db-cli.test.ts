/** `holdfast db` as a user runs it: status, check (exit 1 on problems), checkpoint, optimize, backup. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import BetterSqlite3 from "better-sqlite3";
import { CLI } from "./support/holdfast-process.js";

const dir = mkdtempSync(join(tmpdir(), "holdfast-dbcli-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function holdfast(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, "db", ...args], { encoding: "utf8", cwd: dir, timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function makeDb(path: string): void {
  const db = new BetterSqlite3(path);
  db.pragma("journal_mode = WAL");
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
  const ins = db.prepare("INSERT INTO t (v) VALUES (?)");
  for (let i = 0; i < 500; i++) ins.run(`row ${i}`);
  db.close();
}

test("status and check --json describe a healthy file; check exits 0", () => {
  const path = join(dir, "good.db");
  makeDb(path);
  const s = holdfast("status", `sqlite:${path}`);
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stdout, /journal mode\s+wal/);
  const c = holdfast("check", `sqlite:${path}`, "--json");
  assert.equal(c.code, 0, c.stderr);
  const report = JSON.parse(c.stdout);
  assert.equal(report.ok, true);
  assert.deepEqual(report.checkResult, ["ok"]);
  assert.equal(report.journalMode, "wal");
  assert.equal(holdfast("check", "good.db", "--full").code, 0, "a bare relative path works too");
});

test("check exits 1 with advice when foreign keys are violated; a non-database exits 1 with DB_CORRUPT advice", () => {
  const path = join(dir, "fk.db");
  const db = new BetterSqlite3(path);
  db.exec(
    "PRAGMA foreign_keys = OFF; CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE c (id INTEGER PRIMARY KEY, p INTEGER REFERENCES p(id)); INSERT INTO c VALUES (1, 42);",
  );
  db.close();
  const c = holdfast("check", `sqlite:${path}`);
  assert.equal(c.code, 1);
  assert.match(c.stdout, /ERROR: 1 row\(s\) violate foreign keys/);
  const bad = join(dir, "bad.db");
  writeFileSync(bad, "not a database at all ".repeat(100));
  const b = holdfast("check", `sqlite:${bad}`);
  assert.equal(b.code, 1);
  assert.match(b.stderr, /not a usable SQLite database/);
});

test("checkpoint truncates the WAL; optimize runs", () => {
  const path = join(dir, "wal.db");
  makeDb(path);
  const keep = new BetterSqlite3(path); // holds the WAL open so it is not removed on close
  keep.pragma("wal_autocheckpoint = 0");
  keep.exec("UPDATE t SET v = v || 'x'");
  assert.ok(readFileSync(`${path}-wal`).length > 0);
  const r = holdfast("checkpoint", `sqlite:${path}`, "--json");
  keep.close();
  assert.equal(r.code, 0, r.stderr);
  const cp = JSON.parse(r.stdout);
  assert.ok(cp.walBytesBefore > 0);
  assert.equal(cp.walBytesAfter, 0);
  assert.equal(holdfast("optimize", `sqlite:${path}`).code, 0);
  assert.equal(holdfast("checkpoint", `sqlite:${path}`, "--mode", "sideways").code, 2);
});

test("backup copies online, never overwrites without --force, and the copy passes check", () => {
  const path = join(dir, "src.db");
  makeDb(path);
  const dest = join(dir, "backup.db");
  const first = holdfast("backup", `sqlite:${path}`, dest);
  assert.equal(first.code, 0, first.stderr);
  assert.ok(existsSync(dest));
  const copy = new BetterSqlite3(dest, { readonly: true });
  assert.equal((copy.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n, 500);
  copy.close();
  const again = holdfast("backup", `sqlite:${path}`, dest);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /never overwrites/);
  assert.equal(holdfast("backup", `sqlite:${path}`, dest, "--force").code, 0);
  assert.equal(holdfast("check", `sqlite:${dest}`).code, 0);
});

test("bad usage exits 2 and says what is accepted; a missing file is not created", () => {
  const u = holdfast("frobnicate", "sqlite:x.db");
  assert.equal(u.code, 2);
  assert.match(u.stderr, /status, check, checkpoint, optimize, backup/);
  const missing = holdfast("status", "sqlite:./nope.db");
  assert.equal(missing.code, 1);
  assert.ok(!existsSync(join(dir, "nope.db")));
});
