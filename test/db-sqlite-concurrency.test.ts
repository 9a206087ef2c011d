/**
 * 4 processes × 50 concurrent writers on one SQLite file for a bounded time: no SQLITE_BUSY
 * (nor any other error) reaches a caller, and every write that was acknowledged is in the file.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { pathToFileURL } from "node:url";
import BetterSqlite3 from "better-sqlite3";
import { openDatabase } from "../src/db/index.js";

const dir = mkdtempSync(join(tmpdir(), "holdfast-conc-"));
after(() => rmSync(dir, { recursive: true, force: true }));
// The children run the built library (dist/, as `npm test` builds it first): under tsx each took
// ~0.5 s more CPU to start, and its SQLite threads more again.
const DB_INDEX = pathToFileURL(join(import.meta.dirname, "../dist/db/index.js")).href;

const PROCESSES = 4;
const WRITERS = 50;
const RUN_MS = 2500;

/** One process: 50 async writers mixing single inserts, read-then-write transactions and batches. */
const CHILD = `
import { writeFileSync } from "node:fs";
import { openDatabase, sql } from ${JSON.stringify(DB_INDEX)};
const { DB_PATH, PROC, START_AT, RUN_MS, WRITERS, OUT } = process.env;
const db = await openDatabase("sqlite:" + DB_PATH);
const acked = [];
const errors = {};
await new Promise((r) => setTimeout(r, Math.max(0, Number(START_AT) - Date.now())));
const stopAt = Date.now() + Number(RUN_MS);
async function writer(w) {
  for (let i = 0; Date.now() < stopAt; i++) {
    const key = PROC + ":" + w + ":" + i;
    try {
      const pick = i % 7;
      if (pick === 0) {
        await db.transaction(async (tx) => {
          const row = await tx.get("SELECT count(*) AS n FROM w WHERE proc = ?", [PROC]);
          await tx.run(sql\`INSERT INTO w (k, proc, seen) VALUES (\${key}, \${PROC}, \${row.n})\`);
        });
        acked.push(key);
      } else if (pick === 1) {
        await db.batch([sql\`INSERT INTO w (k, proc) VALUES (\${key}, \${PROC})\`, sql\`INSERT INTO w (k, proc) VALUES (\${key + "b"}, \${PROC})\`]);
        acked.push(key, key + "b");
      } else {
        await db.run(sql\`INSERT INTO w (k, proc) VALUES (\${key}, \${PROC})\`);
        acked.push(key);
      }
    } catch (e) {
      const code = e.code ?? "UNCODED";
      errors[code] = (errors[code] ?? 0) + 1;
      if (!errors.first) errors.first = e.message;
    }
  }
}
await Promise.all(Array.from({ length: Number(WRITERS) }, (_, w) => writer(w)));
const status = db.status();
await db.close();
writeFileSync(OUT, JSON.stringify({ acked, errors, lockWaits: status.sqlite.lockWaits, lockTimeouts: status.sqlite.lockTimeouts }));
`;

test("4 processes × 50 concurrent writers: zero SQLITE_BUSY reach callers, every acknowledged write is in the file", async () => {
  const path = join(dir, "shared.db");
  const setup = await openDatabase(`sqlite:${path}`);
  await setup.run("CREATE TABLE w (k TEXT PRIMARY KEY, proc TEXT NOT NULL, seen INTEGER)");
  await setup.close();
  const script = join(dir, "child.mjs");
  writeFileSync(script, CHILD);

  // Children take a while to start their threads on a busy machine; give them a common start time.
  const startAt = Date.now() + 4000;
  const runs = Array.from({ length: PROCESSES }, (_, p) => {
    const out = join(dir, `p${p}.json`);
    const child = spawn(process.execPath, [script], {
      env: { ...process.env, DB_PATH: path, PROC: `p${p}`, START_AT: String(startAt), RUN_MS: String(RUN_MS), WRITERS: String(WRITERS), OUT: out },
      stdio: ["ignore", "inherit", "inherit"],
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 40_000);
    return new Promise<{ acked: string[]; errors: Record<string, number | string>; lockWaits: number; lockTimeouts: number }>((resolve, reject) => {
      child.on("exit", (code) => {
        clearTimeout(timer);
        if (code !== 0) return reject(new Error(`child p${p} exited with ${code}`));
        resolve(JSON.parse(readFileSync(out, "utf8")));
      });
    });
  });
  const results = await Promise.all(runs);

  const raw = new BetterSqlite3(path, { readonly: true });
  const inFile = new Set((raw.prepare("SELECT k FROM w").all() as { k: string }[]).map((r) => r.k));
  raw.close();
  const acked = results.flatMap((r) => r.acked);
  const missing = acked.filter((k) => !inFile.has(k));
  const errors = results.map((r) => r.errors);
  console.log(
    `acknowledged ${acked.length} writes in ${RUN_MS} ms from ${PROCESSES}×${WRITERS} writers (${Math.round(acked.length / (RUN_MS / 1000))}/s); rows in file ${inFile.size}; lock waits ${results.map((r) => r.lockWaits).join("/")}; errors ${JSON.stringify(errors)}`,
  );
  assert.deepEqual(missing, [], `${missing.length} acknowledged writes are missing from the file`);
  assert.deepEqual(
    errors,
    results.map(() => ({})),
    "no error of any kind (SQLITE_BUSY, DB_LOCKED, POOL_TIMEOUT) may reach a caller",
  );
  assert.ok(acked.length > 1000, `only ${acked.length} writes in ${RUN_MS} ms`);
  assert.equal(inFile.size, acked.length, "nothing that was not acknowledged was written");
  for (const r of results) assert.ok(r.acked.length > 100, "every process made progress (no writer starved)");
});
