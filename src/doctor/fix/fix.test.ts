import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { tempDir } from "../../../test/support/temp-dir.js";
import Database from "better-sqlite3";
import { runDoctor } from "../run.js";
import { applyFixes } from "./apply.js";
import { describePlan, planFixes } from "./plan.js";

function makeDb(dir: string): string {
  const path = join(dir, "app.db");
  const db = new Database(path);
  db.pragma("journal_mode = DELETE");
  db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)");
  const ins = db.prepare("INSERT INTO notes (body) VALUES (?)");
  for (let i = 0; i < 500; i++) ins.run(`note ${i}`);
  db.close();
  return path;
}

test("--fix plans a backup first, then WAL and optimize, and the config patch; nothing changes without --yes", async () => {
  const dir = tempDir("holdfast-doctor-fix-");
  const path = makeDb(dir);
  const result = await runDoctor({ db: `sqlite:${path}`, system: false, progress: false });
  assert.ok(result.findings.some((f) => f.id === "sqlite-not-wal"));
  const plan = planFixes(result, join(dir, "holdfast-doctor.patch"));
  assert.deepEqual(
    plan.steps.map((s) => s.kind),
    ["sqlite-backup", "sqlite-wal", "sqlite-optimize"],
  );
  assert.match(describePlan(plan), /Online backup of/);
  const db = new Database(path, { readonly: true });
  assert.equal(db.pragma("journal_mode", { simple: true }), "delete", "planning changed nothing");
  db.close();
});

test("--fix --yes: verified backup, WAL on, checkpoint, optimize; every row still there; patch file instead of config edits", async () => {
  const dir = tempDir("holdfast-doctor-fix-");
  const path = makeDb(dir);
  const w = new Database(path);
  w.pragma("journal_mode = WAL");
  w.pragma("wal_autocheckpoint = 0");
  w.prepare("INSERT INTO notes (body) VALUES (?)").run("in the WAL");
  w.close(); // better-sqlite3 checkpoints on close; write again with a second connection kept open
  const holder = new Database(path);
  holder.pragma("wal_autocheckpoint = 0");
  holder.prepare("INSERT INTO notes (body) VALUES (?)").run("still in the WAL");
  const result = await runDoctor({ db: `sqlite:${path}`, system: false, progress: false });
  result.findings.push({
    id: "keepalive-race",
    title: "test finding with config lines",
    severity: "error",
    confidence: 0.9,
    explains: 1,
    evidence: { summary: "x", counts: {}, samples: [] },
    fix: { summary: "raise keep-alive", holdfast: 'timeouts: { keepAlive: "65s" }', nginx: "keepalive_timeout 60s;" },
  });
  const patchFile = join(dir, "holdfast-doctor.patch");
  const plan = planFixes(result, patchFile);
  assert.deepEqual(
    plan.steps.map((s) => s.kind),
    ["sqlite-backup", "sqlite-checkpoint", "sqlite-optimize"],
  );
  const applied = await applyFixes(plan);
  holder.close();
  assert.deepEqual(
    applied.outcomes.map((o) => [o.step.kind, o.ok]),
    [
      ["sqlite-backup", true],
      ["sqlite-checkpoint", true],
      ["sqlite-optimize", true],
    ],
    JSON.stringify(applied.outcomes),
  );
  const backups = readdirSync(dir).filter((f) => /^app\.db\.holdfast-backup-\d{8}T\d{6}$/.test(f));
  assert.equal(backups.length, 1);
  const b = new Database(join(dir, backups[0] as string), { readonly: true });
  assert.equal((b.prepare("SELECT count(*) AS n FROM notes").get() as { n: number }).n, 502, "the backup holds the WAL's rows too");
  b.close();
  const db = new Database(path, { readonly: true });
  assert.equal((db.prepare("SELECT count(*) AS n FROM notes").get() as { n: number }).n, 502);
  db.close();
  assert.equal(applied.patchFile, patchFile);
  const patch = readFileSync(patchFile, "utf8");
  assert.match(patch, /Nothing below was applied/);
  assert.match(patch, /keepalive_timeout 60s;/);
  const again = await applyFixes({ ...plan, steps: [] });
  assert.notEqual(again.patchFile, patchFile, "an existing patch file is never overwritten");
});

test("a damaged database is never touched", async () => {
  const dir = tempDir("holdfast-doctor-fix-");
  const path = join(dir, "broken.db");
  writeFileSync(path, "SQLite format 3\u0000 but then garbage ".repeat(200));
  const result = await runDoctor({ db: `sqlite:${path}`, system: false, progress: false });
  const plan = planFixes(result, join(dir, "p.patch"));
  assert.deepEqual(plan.steps, []);
  assert.ok(result.findings.some((f) => f.id === "probe-failed/sqlite" || f.id === "sqlite-corrupt"));
  assert.ok(existsSync(path));
});
