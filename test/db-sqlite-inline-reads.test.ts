/**
 * Inline reads on a real SQLite file: a statement measured fast runs on the main thread, anything
 * slow stays on the reader threads, so the event loop is never blocked by a slow read for longer
 * than one threshold — except the one slow inline run that demotes a statement whose cost depends
 * on its parameters. Reads inside transaction(fn) never run inline, and a read after an
 * acknowledged write sees it whichever way it runs.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { after, test } from "node:test";
import { Deadline, runWithContext } from "../src/context/index.js";
import { type Database, openDatabase, type SqliteReadCounts, sql } from "../src/db/index.js";
import { registerDatabaseGauges } from "../src/server/worker/database-gauges.js";
import { promClient, WorkerMetrics } from "../src/telemetry/index.js";
import { calibrate, held, longest, SLOW_READ, total, warmUntil } from "./support/inline-sqlite.js";

const BETTER_SQLITE3 = createRequire(import.meta.url).resolve("better-sqlite3");
const dir = mkdtempSync(join(tmpdir(), "holdfast-inline-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

async function open(opts: { inlineAfterRuns?: number; inlineReadThresholdUs?: number } = {}): Promise<{ db: Database; path: string }> {
  const path = join(dir, `inline-${n++}.db`);
  const db = await openDatabase(`sqlite:${path}`, {
    inlineAfterRuns: opts.inlineAfterRuns,
    sqlite: opts.inlineReadThresholdUs === undefined ? undefined : { inlineReadThresholdUs: opts.inlineReadThresholdUs },
  });
  await db.run("CREATE TABLE kv (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)");
  await db.run("INSERT INTO kv (id, v) VALUES (1, 0), (2, 0)");
  return { db, path };
}

function reads(db: Database): SqliteReadCounts {
  const r = db.status().sqlite?.reads;
  assert.ok(r, "status().sqlite.reads is missing");
  return r;
}

/** Repeats a read until `statements` statements run inline (see {@link warmUntil}). */
function warmUntilInline(db: Database, read: () => Promise<unknown>, statements = 1, max = 2000): Promise<number> {
  return warmUntil(() => reads(db).inlineStatements >= statements, read, max);
}

test("a read taking 80+ ms runs 10 times and its 10 calls together hold the event loop less than one run (it never goes inline)", async () => {
  const { db, path } = await open();
  try {
    const { count, tookMs } = calibrate(path, 80);
    const before = reads(db);
    // Sequential and concurrent runs: 10 in all, about a second of SQLite work.
    const times: number[] = [];
    for (let i = 0; i < 6; i++) assert.equal(((await held(times, () => db.get<{ n: number }>(SLOW_READ, [count]))) as { n: number }).n, count);
    await Promise.all(Array.from({ length: 4 }, () => held(times, () => db.get(SLOW_READ, [count]))));
    const after = reads(db);
    assert.equal(after.inline - before.inline, 0, "the slow read ran inline");
    assert.equal(after.inlineStatements, 0);
    assert.equal(after.threaded - before.threaded, 10);
    // One run inline would hold the loop for tookMs on its own; the sum also absorbs a preemption or two.
    assert.ok(
      total(times) < tookMs,
      `the calls held the event loop ${total(times).toFixed(1)} ms in all (longest ${longest(times).toFixed(1)} ms); one run takes ${tookMs.toFixed(1)} ms`,
    );
  } finally {
    await db.close();
  }
});

test("a statement fast for some parameters and slow for others is demoted after one slow inline run; its next 5 slow runs together hold the event loop less than one run", async () => {
  const { db, path } = await open({ inlineAfterRuns: 8 });
  try {
    const { count, tookMs } = calibrate(path, 80);
    // Proven fast on the threads (a count to 10 takes a few µs), then inline.
    assert.ok((await warmUntilInline(db, () => db.get(SLOW_READ, [10]))) >= 8, "promoted before 8 fast runs");
    // The first slow run happens inline (it cannot be known in advance) and demotes the statement:
    // that one call holds the loop for the whole run, which shows the measure below would see it.
    // On a busy machine a fast run can measure slow by itself (the OS preempted it) and demote the
    // statement first, so the slow run went to a thread: then promote it again and retry.
    let first: number[] = [];
    let demotionsBefore = 0;
    for (let attempt = 1; ; attempt++) {
      const warm = reads(db);
      demotionsBefore = warm.demotions;
      first = [];
      await held(first, () => db.get(SLOW_READ, [count]));
      if (reads(db).inline > warm.inline) break;
      assert.ok(attempt < 5, `the slow run went to a thread ${attempt} times: the statement was demoted before it each time`);
      await warmUntilInline(db, () => db.get(SLOW_READ, [10]));
    }
    assert.ok(longest(first) >= tookMs / 2, `the slow inline run held the loop only ${longest(first).toFixed(1)} ms of ${tookMs.toFixed(1)} ms`);
    const demoted = reads(db);
    assert.equal(demoted.demotions - demotionsBefore, 1, "the slow inline run demoted the statement");
    assert.equal(demoted.inlineStatements, 0);
    const times: number[] = [];
    for (let i = 0; i < 5; i++) await held(times, () => db.get(SLOW_READ, [count]));
    const later = reads(db);
    assert.equal(later.inline, demoted.inline, "a slow run went inline after the demotion");
    assert.equal(later.threaded - demoted.threaded, 5);
    assert.ok(
      total(times) < tookMs,
      `after the demotion the calls held the event loop ${total(times).toFixed(1)} ms in all (longest ${longest(times).toFixed(1)} ms); one run takes ${tookMs.toFixed(1)} ms`,
    );
    // Fast again on the threads, over twice the proof (16 runs): inline again.
    assert.ok((await warmUntilInline(db, () => db.get(SLOW_READ, [10]))) >= 16, "re-promoted before 16 fast runs");
  } finally {
    await db.close();
  }
});

test("reads inside transaction(fn) never run inline, even for a statement that runs inline outside it", async () => {
  const { db } = await open({ inlineAfterRuns: 1 });
  try {
    const q = sql`SELECT v FROM kv WHERE id = ${1}`;
    await warmUntilInline(db, () => db.get(q));
    const before = reads(db);
    await db.transaction(async (tx) => {
      await tx.run(sql`UPDATE kv SET v = v + 1 WHERE id = ${2}`);
      for (let i = 0; i < 20; i++) assert.deepEqual(await db.get(q), { v: 0 });
      // Nested awaits keep the transaction's context.
      await Promise.all(Array.from({ length: 5 }, async () => db.query(q)));
    });
    const after = reads(db);
    assert.equal(after.inline, before.inline, "a read inside transaction(fn) ran inline");
    assert.equal(after.threaded - before.threaded, 25);
    await db.get(q);
    assert.equal(reads(db).inline, before.inline + 1, "outside the transaction the statement runs inline again");
  } finally {
    await db.close();
  }
});

test("a read after an acknowledged write sees it, inline or on a thread, also under concurrent writers (group commit)", async () => {
  const { db } = await open({ inlineAfterRuns: 4 });
  try {
    const inlineRead = (id: number) => db.get<{ v: number }>(sql`SELECT v FROM kv WHERE id = ${id}`);
    await warmUntilInline(db, () => inlineRead(1));
    const before = reads(db);
    for (let i = 1; i <= 200; i++) {
      await db.run(sql`UPDATE kv SET v = ${i} WHERE id = ${1}`);
      assert.equal((await inlineRead(1))?.v, i, `inline read after write ${i}`);
      // A text seen for the first time always goes to a thread.
      assert.equal((await db.get<{ v: number }>(`SELECT v FROM kv WHERE id = 1 AND ${i} = ${i}`))?.v, i, `threaded read after write ${i}`);
    }
    // 32 concurrent writers, each reading its own row right after its write is acknowledged.
    await db.run(`INSERT INTO kv (id, v) SELECT value, 0 FROM json_each('[${Array.from({ length: 32 }, (_, k) => 100 + k).join(",")}]')`);
    await Promise.all(
      Array.from({ length: 32 }, async (_, k) => {
        for (let i = 1; i <= 20; i++) {
          await db.run(sql`UPDATE kv SET v = ${i} WHERE id = ${100 + k}`);
          assert.equal((await inlineRead(100 + k))?.v, i);
        }
      }),
    );
    const after = reads(db);
    assert.ok(after.inline - before.inline >= 200, `only ${after.inline - before.inline} reads ran inline`);
    assert.ok(after.threaded - before.threaded >= 200);
  } finally {
    await db.close();
  }
});

test("deadlines still bound inline-eligible reads: an expired deadline answers DEADLINE_EXCEEDED without running the read", async () => {
  const { db } = await open({ inlineAfterRuns: 1 });
  try {
    const q = sql`SELECT v FROM kv WHERE id = ${1}`;
    await warmUntilInline(db, () => db.get(q));
    const before = reads(db);
    const expired = new Deadline(performance.now() - 1);
    await assert.rejects(
      runWithContext({ requestId: "expired", deadline: expired, signal: new AbortController().signal }, () => db.get(q)),
      (e: { code?: string }) => e.code === "DEADLINE_EXCEEDED",
    );
    assert.equal(reads(db).inline, before.inline);
  } finally {
    await db.close();
  }
});

/** Another process that takes the write lock for 200 ms every 250 ms until told to stop. */
const LOCK_HOLDER = `
const Database = require(process.env.BS3);
const db = new Database(process.env.DB_PATH);
db.pragma("busy_timeout = 5000");
const hold = () => {
  db.exec("BEGIN IMMEDIATE");
  db.prepare("UPDATE kv SET v = v + 1 WHERE id = 2").run();
  const until = Date.now() + 200;
  while (Date.now() < until) {}
  db.exec("COMMIT");
  console.log("held");
};
setInterval(hold, 250);
hold();
`;

test("while another process holds the write lock 200 ms at a time, inline reads keep answering with no error reaching a caller and the loop never waits for the lock", async () => {
  const { db, path } = await open({ inlineAfterRuns: 4 });
  let child: ChildProcess | undefined;
  try {
    const q = sql`SELECT v FROM kv WHERE id = ${1}`;
    await warmUntilInline(db, () => db.get(q));
    child = spawn(process.execPath, ["-e", LOCK_HOLDER], { env: { ...process.env, BS3: BETTER_SQLITE3, DB_PATH: path }, stdio: ["ignore", "pipe", "inherit"] });
    let holds = 0;
    child.stdout?.on("data", (d: Buffer) => {
      holds += d.toString().split("held").length - 1;
    });
    const before = reads(db);
    const failures: unknown[] = [];
    const times: number[] = [];
    const until = performance.now() + 10_000;
    // At least 4 lock holds, each a full 200 ms, while 8 clients read in a loop.
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (holds < 5 && performance.now() < until) {
          try {
            await held(times, () => db.get(q));
          } catch (err) {
            failures.push(err);
          }
          await new Promise((r) => setImmediate(r));
        }
      }),
    );
    assert.ok(holds >= 5, `the other process held the lock only ${holds} times`);
    assert.deepEqual(failures, []);
    const after = reads(db);
    assert.ok(after.inline - before.inline > 100, `only ${after.inline - before.inline} inline reads while the lock was held`);
    // A read that waited for the 200 ms lock on the main thread would hold the loop that long.
    assert.ok(longest(times) < 150, `a read held the event loop ${longest(times).toFixed(1)} ms`);
  } finally {
    child?.kill();
    await db.close();
  }
});

test("db.sqlite.inlineReadThresholdUs = 0 keeps every read on the threads, and /metrics counts reads by lane", async () => {
  const off = await open({ inlineAfterRuns: 1, inlineReadThresholdUs: 0 });
  const on = await open({ inlineAfterRuns: 1 });
  try {
    for (let i = 0; i < 20; i++) await off.db.get(sql`SELECT v FROM kv WHERE id = ${1}`);
    assert.equal(reads(off.db).inline, 0);
    assert.equal(reads(off.db).threaded, 20);
    await warmUntilInline(on.db, () => on.db.get(sql`SELECT v FROM kv WHERE id = ${1}`));
    for (let i = 0; i < 20; i++) await on.db.get(sql`SELECT v FROM kv WHERE id = ${1}`);
    const metrics = new WorkerMetrics(new promClient.Registry());
    registerDatabaseGauges(metrics, () => on.db.status());
    const r = reads(on.db);
    assert.ok(r.inline >= 18, `only ${r.inline} of 20 reads ran inline after promotion`);
    const text = await metrics.registry.metrics();
    assert.match(text, new RegExp(`holdfast_sqlite_reads_total\\{lane="inline"\\} ${r.inline}\\b`));
    assert.match(text, new RegExp(`holdfast_sqlite_reads_total\\{lane="thread"\\} ${r.threaded}\\b`));
    assert.match(text, /holdfast_sqlite_inline_statements 1\b/);
    assert.match(text, /holdfast_sqlite_inline_pauses_total 0\b|# TYPE holdfast_sqlite_inline_pauses_total counter/);
    // Counters only grow between scrapes.
    await on.db.get(sql`SELECT v FROM kv WHERE id = ${1}`);
    assert.match(await metrics.registry.metrics(), new RegExp(`holdfast_sqlite_reads_total\\{lane="inline"\\} ${r.inline + 1}\\b`));
  } finally {
    await off.db.close();
    await on.db.close();
  }
});

test("BLOBs come back as plain Uint8Array whichever way a read ran, in every column that holds one (get and query)", async () => {
  const { db } = await open({ inlineAfterRuns: 2 });
  try {
    await db.run("CREATE TABLE files (id INTEGER PRIMARY KEY, name TEXT, body BLOB, extra)");
    await db.run("INSERT INTO files (id, name, body, extra) VALUES (1, 'a', ?, ?), (2, 'b', ?, 'text')", [
      new Uint8Array([1, 2, 3]),
      new Uint8Array([9]),
      new Uint8Array([4, 5]),
    ]);
    const one = sql`SELECT id, name, body, extra FROM files WHERE id = ${1}`;
    const all = "SELECT f.id, f.body, g.body AS other FROM files f JOIN files g ON g.id = 3 - f.id ORDER BY f.id";
    const plain = (v: unknown) => v instanceof Uint8Array && !Buffer.isBuffer(v);
    const threaded = { one: await db.get<Record<string, unknown>>(one), all: await db.query<Record<string, unknown>>(all) };
    await warmUntilInline(db, () => db.get(one), 1);
    await warmUntilInline(db, () => db.query(all), 2);
    const before = reads(db).inline;
    const inline = { one: await db.get<Record<string, unknown>>(one), all: await db.query<Record<string, unknown>>(all) };
    assert.equal(reads(db).inline - before, 2, "both reads ran inline");
    for (const r of [threaded, inline]) {
      assert.ok(plain(r.one?.body) && plain(r.one?.extra), `get: ${JSON.stringify(r.one)}`);
      assert.deepEqual(Array.from(r.one?.body as Uint8Array), [1, 2, 3]);
      assert.equal(r.all.length, 2);
      for (const row of r.all) assert.ok(plain(row.body) && plain(row.other), `query row: ${JSON.stringify(row)}`);
      assert.deepEqual(Array.from(r.all[0]?.other as Uint8Array), [4, 5]);
    }
  } finally {
    await db.close();
  }
});

test("reads queued for a reader thread run inline as soon as their statement is promoted: 200 calls at once, at most a few on threads", async () => {
  // Promoted after one fast threaded run; the pool sends one batch per thread and queues the rest.
  const { db } = await open({ inlineAfterRuns: 1, inlineReadThresholdUs: 100_000 });
  try {
    const before = reads(db);
    const calls = Array.from({ length: 200 }, (_, i) => db.get<{ v: number }>(sql`SELECT v FROM kv WHERE id = ${1 + (i % 2)}`));
    const rows = await Promise.all(calls);
    assert.ok(
      rows.every((r) => r?.v === 0),
      "a read answered wrongly",
    );
    const after = reads(db);
    const threaded = after.threaded - before.threaded;
    assert.equal(after.inline - before.inline + threaded, 200);
    // Two threads, one batch each before the first answer: whatever was queued behind them ran inline.
    assert.ok(threaded <= 10, `${threaded} of 200 calls ran on threads`);
  } finally {
    await db.close();
  }
});
