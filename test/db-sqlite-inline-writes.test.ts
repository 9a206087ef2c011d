/**
 * Inline writes on a real SQLite file: a db.run() statement measured fast on the writer thread
 * runs on the main thread's connection while the writer is idle, committed on its own. Writes
 * keep their order behind anything queued for the writer or a transaction holding it; a lock held
 * by another connection sends the write to the writer thread, which waits for it; a slow run
 * demotes its statement; the writer thread checkpoints for the inline writes.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import BetterSqlite3 from "better-sqlite3";
import { type Database, openDatabase, type SqliteRouteCounts, type SqliteSettings, sql } from "../src/db/index.js";
import { registerDatabaseGauges } from "../src/server/worker/database-gauges.js";
import { promClient, WorkerMetrics } from "../src/telemetry/index.js";
import { calibrate, held, longest, SLOW_READ, total, warmUntil } from "./support/inline-sqlite.js";
import { eventually } from "./support/wait.js";

const dir = mkdtempSync(join(tmpdir(), "holdfast-inline-w-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

async function open(opts: { inlineAfterRuns?: number; sqlite?: Partial<SqliteSettings> } = {}): Promise<{ db: Database; path: string }> {
  const path = join(dir, `w-${n++}.db`);
  const db = await openDatabase(`sqlite:${path}`, { inlineAfterRuns: opts.inlineAfterRuns ?? 4, sqlite: opts.sqlite });
  await db.run("CREATE TABLE kv (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)");
  await db.run("INSERT INTO kv (id, v) VALUES (1, 0), (2, 0)");
  await db.run("CREATE TABLE log (seq INTEGER NOT NULL, tag TEXT NOT NULL UNIQUE)");
  return { db, path };
}

function writes(db: Database): SqliteRouteCounts {
  const w = db.status().sqlite?.writes;
  assert.ok(w, "status().sqlite.writes is missing");
  return w;
}

/** Repeats a write until one more write statement runs inline (see {@link warmUntil}). */
function warmUntilInline(db: Database, write: (i: number) => Promise<unknown>, max = 2000): Promise<number> {
  const before = writes(db).inlineStatements;
  return warmUntil(() => writes(db).inlineStatements > before, write, max);
}

/** A write whose cost grows with its parameter: one row holding a recursive count to ?. */
const SLOW_WRITE = `INSERT INTO sink (n) SELECT n FROM (${SLOW_READ})`;

test("a write measured fast on the writer thread runs inline with the same result, and every later read sees it, inline or on a thread", async () => {
  // A generous threshold: the subject is the results, and a busy CI machine's slow runs would demote the statement.
  const { db } = await open({ sqlite: { inlineWriteThresholdUs: 100_000 } });
  try {
    const set = (i: number) => db.run(sql`UPDATE kv SET v = ${i} WHERE id = ${1}`);
    assert.ok((await warmUntilInline(db, set)) >= 4, "promoted before 4 runs on the writer thread");
    const before = writes(db);
    for (let i = 1; i <= 200; i++) {
      // changes only: for an UPDATE, lastInsertRowid is whatever its connection last inserted.
      assert.equal((await set(i)).changes, 1, `write ${i}`);
      assert.equal((await db.get<{ v: number }>(sql`SELECT v FROM kv WHERE id = ${1}`))?.v, i, `read after write ${i}`);
      // A text seen for the first time always goes to a reader thread.
      assert.equal((await db.get<{ v: number }>(`SELECT v FROM kv WHERE id = 1 AND ${i} = ${i}`))?.v, i, `threaded read after write ${i}`);
    }
    const after = writes(db);
    // A run the OS preempted may demote the statement for a few runs: most, not all, ran inline.
    assert.ok(after.inline - before.inline >= 150, `only ${after.inline - before.inline} of 200 writes ran inline`);
    // An insert gives the same lastInsertRowid whichever lane ran it.
    const insert = (i: number) => db.run(sql`INSERT INTO log (seq, tag) VALUES (${i}, ${`t${i}`})`);
    await warmUntilInline(db, insert);
    const r = await insert(10_000);
    const row = await db.get<{ rowid: number }>("SELECT rowid FROM log WHERE seq = 10000");
    assert.equal(r.lastInsertRowid, row?.rowid);
  } finally {
    await db.close();
  }
});

test("writes keep their order: behind a write on the writer thread, and behind a transaction holding it, inline-eligible writes wait, then run inline in order", async () => {
  // The subject is the order, not the threshold: a generous one keeps a busy CI machine's slow runs
  // from demoting the statement (CI on Node 24, 2026-12-03: 7 of the 20 queued writes ran inline at 200 us).
  const { db } = await open({ sqlite: { inlineWriteThresholdUs: 100_000 } });
  try {
    const insert = (seq: number, tag: string) => db.run(sql`INSERT INTO log (seq, tag) VALUES (${seq}, ${tag})`);
    await warmUntilInline(db, (i) => insert(-i, `warm${i}`));
    await db.run("DELETE FROM log");
    // A text never seen goes to the writer thread; the 20 writes after it, not awaited, must not overtake it.
    const before = writes(db);
    const all = [db.run("INSERT INTO log (seq, tag) VALUES (0, 'first')"), ...Array.from({ length: 20 }, (_, k) => insert(k + 1, `q${k + 1}`))];
    await Promise.all(all);
    const order = (await db.query<{ seq: number }>("SELECT seq FROM log ORDER BY rowid")).map((r) => r.seq);
    assert.deepEqual(
      order,
      Array.from({ length: 21 }, (_, k) => k),
    );
    // Once the writer was free the queued ones ran inline (a run the OS preempted may demote the statement: most, not all).
    assert.ok(writes(db).inline - before.inline >= 15, `only ${writes(db).inline - before.inline} of the 20 queued writes ran inline`);

    let openGate!: () => void;
    const gate = new Promise<void>((r) => {
      openGate = r;
    });
    let holding!: () => void;
    const held_ = new Promise<void>((r) => {
      holding = r;
    });
    const tx = db.transaction(async (t) => {
      await t.run("INSERT INTO log (seq, tag) VALUES (100, 'tx')");
      holding();
      await gate;
    });
    // Once the transaction holds the writer (its first statement ran), write from outside it.
    await held_;
    const outside = insert(101, "after-tx");
    openGate();
    await Promise.all([tx, outside]);
    const tail = (await db.query<{ seq: number }>("SELECT seq FROM log WHERE seq >= 100 ORDER BY rowid")).map((r) => r.seq);
    assert.deepEqual(tail, [100, 101]);
  } finally {
    await db.close();
  }
});

test("a write that meets a lock held by another connection goes to the writer thread, which waits for it: the call does not hold the loop, no error reaches the caller, and the write commits", async () => {
  const { db, path } = await open();
  const other = new BetterSqlite3(path);
  try {
    const set = (i: number) => db.run(sql`UPDATE kv SET v = ${i} WHERE id = ${1}`);
    await warmUntilInline(db, set);
    const before = writes(db);
    other.exec("BEGIN IMMEDIATE");
    other.prepare("UPDATE kv SET v = v + 1 WHERE id = 2").run();
    const times: number[] = [];
    let done = false;
    const p = held(times, () => set(777)).then((r) => {
      done = true;
      return r;
    });
    // The writer thread reports its wait for the lock; until the other connection commits, the write cannot finish.
    await eventually(() => (db.status().sqlite?.lockWaits ?? 0) > 0, 10_000, "the writer thread waiting for the lock");
    assert.equal(done, false, "the write finished while another connection held the write lock");
    other.exec("COMMIT");
    assert.equal((await p).changes, 1);
    const after = writes(db);
    assert.equal(after.busyFallbacks - before.busyFallbacks, 1);
    assert.equal(after.threaded - before.threaded, 1);
    assert.ok(longest(times) < 50, `the call held the event loop ${longest(times).toFixed(1)} ms`);
    assert.equal((await db.get<{ v: number }>("SELECT v FROM kv WHERE id = 1"))?.v, 777);
  } finally {
    if (other.inTransaction) other.exec("ROLLBACK");
    other.close();
    await db.close();
  }
});

test("a write statement slow from its first run (80+ ms) never runs inline: its 6 calls together hold the event loop less than one run", async () => {
  const { db, path } = await open();
  try {
    await db.run("CREATE TABLE sink (n INTEGER)");
    const { count, tookMs } = calibrate(path, 80);
    const before = writes(db);
    const times: number[] = [];
    for (let i = 0; i < 6; i++) await held(times, () => db.run(SLOW_WRITE, [count]));
    const after = writes(db);
    assert.equal(after.inline - before.inline, 0, "the slow write ran inline");
    assert.equal(after.threaded - before.threaded, 6);
    assert.ok(total(times) < tookMs, `the calls held the event loop ${total(times).toFixed(1)} ms in all; one run takes ${tookMs.toFixed(1)} ms`);
  } finally {
    await db.close();
  }
});

test("a write fast for some parameters and slow for others is demoted after one slow inline run; its next 5 slow runs together hold the event loop less than one run", async () => {
  const { db, path } = await open({ inlineAfterRuns: 8 });
  try {
    await db.run("CREATE TABLE sink (n INTEGER)");
    const { count, tookMs } = calibrate(path, 80);
    assert.ok((await warmUntilInline(db, () => db.run(SLOW_WRITE, [10]))) >= 8, "promoted before 8 fast runs");
    // The first slow run happens inline (it cannot be known in advance) and demotes the statement.
    // A fast run the OS preempted can demote it first, sending the slow run to the thread: promote and retry.
    let first: number[] = [];
    let demotionsBefore = 0;
    let slowWrites = 0;
    for (let attempt = 1; ; attempt++) {
      const warm = writes(db);
      demotionsBefore = warm.demotions;
      first = [];
      slowWrites++;
      await held(first, () => db.run(SLOW_WRITE, [count]));
      if (writes(db).inline > warm.inline) break;
      assert.ok(attempt < 5, `the slow write went to the writer thread ${attempt} times: the statement was demoted before it each time`);
      await warmUntilInline(db, () => db.run(SLOW_WRITE, [10]));
    }
    assert.ok(longest(first) >= tookMs / 2, `the slow inline write held the loop only ${longest(first).toFixed(1)} ms of ${tookMs.toFixed(1)} ms`);
    const demoted = writes(db);
    assert.equal(demoted.demotions - demotionsBefore, 1, "the slow inline run demoted the statement");
    assert.equal(demoted.inlineStatements, 0);
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      slowWrites++;
      await held(times, () => db.run(SLOW_WRITE, [count]));
    }
    const later = writes(db);
    assert.equal(later.inline, demoted.inline, "a slow write ran inline after the demotion");
    assert.equal(later.threaded - demoted.threaded, 5);
    assert.ok(
      total(times) < tookMs,
      `after the demotion the calls held the event loop ${total(times).toFixed(1)} ms in all; one run takes ${tookMs.toFixed(1)} ms`,
    );
    assert.equal((await db.get<{ n: number }>("SELECT count(*) AS n FROM sink WHERE n = ?", [count]))?.n, slowWrites, "every slow write committed once");
  } finally {
    await db.close();
  }
});

test("an inline write that breaks a constraint fails as on the writer thread, writes nothing, and is not re-run", async () => {
  const { db } = await open();
  try {
    const insert = (tag: string) => db.run(sql`INSERT INTO log (seq, tag) VALUES (${1}, ${tag})`);
    await warmUntilInline(db, (i) => insert(`w${i}`));
    const before = writes(db);
    const inlineErr = await insert("w1").then(
      () => assert.fail("a duplicate tag was accepted inline"),
      (e: { code?: string; message?: string; details?: Record<string, unknown> }) => e,
    );
    assert.equal(writes(db).threaded, before.threaded, "the failed inline write was re-run on the writer thread");
    const threadErr = await db.run("INSERT INTO log (seq, tag) VALUES (1, 'w1') -- threaded").then(
      () => assert.fail("a duplicate tag was accepted on the writer thread"),
      (e: { code?: string; message?: string; details?: Record<string, unknown> }) => e,
    );
    assert.equal(inlineErr.code, threadErr.code);
    assert.equal(inlineErr.details?.sqliteCode, threadErr.details?.sqliteCode);
    assert.match(String(inlineErr.message), /UNIQUE constraint failed: log\.tag/);
    assert.equal((await db.get<{ n: number }>("SELECT count(*) AS n FROM log WHERE tag = 'w1'"))?.n, 1);
  } finally {
    await db.close();
  }
});

test("the writer thread checkpoints for inline writes: 2 000 inline writes with walAutocheckpoint 50 leave the WAL far below 2 000 pages", async () => {
  // The subject is the checkpoints, not the threshold: a generous one keeps a busy CI machine's slow
  // runs from demoting the statement (CI on Node 24, 2026-12-03: 616 of 2 000 ran inline at 200 us).
  const { db, path } = await open({ sqlite: { walAutocheckpoint: 50, inlineWriteThresholdUs: 100_000 } });
  try {
    const set = (i: number) => db.run(sql`UPDATE kv SET v = ${i} WHERE id = ${1}`);
    await warmUntilInline(db, set);
    const before = writes(db);
    for (let i = 0; i < 2000; i++) await set(i);
    assert.ok(writes(db).inline - before.inline >= 1500, `only ${writes(db).inline - before.inline} of 2000 writes ran inline`);
    // Each write appends at least one 4 KiB page: unchecked, the WAL would pass 8 MB.
    const wal = statSync(`${path}-wal`).size;
    assert.ok(wal < 2 * 1024 * 1024, `the WAL is ${wal} bytes after 2000 writes`);
  } finally {
    await db.close();
  }
});

test("db.sqlite.inlineWriteThresholdUs = 0 keeps every write on the writer thread, and /metrics counts writes by lane", async () => {
  const off = await open({ inlineAfterRuns: 1, sqlite: { inlineWriteThresholdUs: 0 } });
  // A generous threshold, as above: a slow run on a busy machine must not demote the statement mid-count.
  const on = await open({ inlineAfterRuns: 1, sqlite: { inlineWriteThresholdUs: 100_000 } });
  try {
    for (let i = 0; i < 20; i++) await off.db.run(sql`UPDATE kv SET v = ${i} WHERE id = ${1}`);
    assert.equal(writes(off.db).inline, 0);
    assert.ok(writes(off.db).threaded >= 20);
    await warmUntilInline(on.db, (i) => on.db.run(sql`UPDATE kv SET v = ${i} WHERE id = ${1}`));
    for (let i = 0; i < 20; i++) await on.db.run(sql`UPDATE kv SET v = ${i} WHERE id = ${1}`);
    const metrics = new WorkerMetrics(new promClient.Registry());
    registerDatabaseGauges(metrics, () => on.db.status());
    const w = writes(on.db);
    assert.ok(w.inline >= 15, `only ${w.inline} of 20 writes ran inline after promotion`);
    const text = await metrics.registry.metrics();
    assert.match(text, new RegExp(`holdfast_sqlite_writes_total\\{lane="inline"\\} ${w.inline}\\b`));
    assert.match(text, new RegExp(`holdfast_sqlite_writes_total\\{lane="thread"\\} ${w.threaded}\\b`));
    assert.ok(w.inlineStatements >= 1);
    assert.match(text, new RegExp(`holdfast_sqlite_inline_write_statements ${w.inlineStatements}\\b`));
  } finally {
    await off.db.close();
    await on.db.close();
  }
});

test("the first write after a checkpoint goes to the writer thread (the WAL may start over there, with an fsync of its header); the next one runs inline again", async () => {
  // Generous threshold: the subject is the routing after a checkpoint, not slow runs.
  const { db } = await open({ sqlite: { inlineWriteThresholdUs: 100_000 } });
  try {
    const set = (i: number) => db.run(sql`UPDATE kv SET v = ${i} WHERE id = ${1}`);
    await warmUntilInline(db, set);
    // A round trip through the writer thread, then one write that takes a pending turn if any.
    await db.run("CREATE TABLE IF NOT EXISTS settle (x INTEGER)");
    await set(-1);
    for (let round = 1; round <= 3; round++) {
      assert.ok(await db.checkpoint("PASSIVE"), `checkpoint ${round} returned no result`);
      const before = writes(db);
      await set(round * 10 + 1);
      const first = writes(db);
      assert.equal(first.threaded - before.threaded, 1, `round ${round}: the first write after the checkpoint did not go to the writer thread`);
      assert.equal(first.inline - before.inline, 0, `round ${round}: the first write after the checkpoint ran inline`);
      await set(round * 10 + 2);
      const second = writes(db);
      assert.equal(second.inline - first.inline, 1, `round ${round}: the second write after the checkpoint did not run inline`);
      assert.equal((await db.get<{ v: number }>(sql`SELECT v FROM kv WHERE id = ${1}`))?.v, round * 10 + 2, `round ${round}: the last write did not land last`);
    }
  } finally {
    await db.close();
  }
});

test("inline writes go on while the writer thread checkpoints for them, until one more walAutocheckpoint's worth: then they wait for it", async () => {
  // Generous threshold: the subject is the routing around the checkpoint, not slow runs.
  const { db, path } = await open({ sqlite: { walAutocheckpoint: 100, inlineWriteThresholdUs: 100_000 } });
  try {
    const set = (i: number) => db.run(sql`UPDATE kv SET v = ${i} WHERE id = ${1}`);
    await warmUntilInline(db, set);
    // A round trip through the writer thread (DDL never runs inline) so it has answered everything
    // sent before, then one write that takes a pending "first write after a checkpoint" turn if any.
    await db.run("CREATE TABLE IF NOT EXISTS settle (x INTEGER)");
    await set(-1);
    const start = writes(db);
    // Nothing below yields to the event loop until the awaits: the checkpoint that the 100th inline
    // write sends to the writer thread cannot be seen to finish, so it is still running for them.
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < 100; i++) pending.push(set(i));
    for (let i = 0; i < 20; i++) pending.push(set(1000 + i));
    const during = writes(db);
    assert.equal(during.threaded - start.threaded, 0, "a write went to the writer thread while its checkpoint ran");
    assert.equal(during.inline - start.inline, 120, "writes during the checkpoint did not run inline");
    // A loop that never yields would never see the checkpoint finish: past one more walAutocheckpoint's worth, writes queue for the writer.
    for (let i = 0; i < 100; i++) pending.push(set(2000 + i));
    const held = writes(db);
    assert.ok(held.threaded - during.threaded >= 10, `only ${held.threaded - during.threaded} of 100 writes waited for the checkpoint`);
    await Promise.all(pending);
    assert.equal((await db.get<{ v: number }>(sql`SELECT v FROM kv WHERE id = ${1}`))?.v, 2099, "the last write did not land last");
    // Every few checkpoints one catches up with writes held back, so the WAL starts over: it stays
    // within a few walAutocheckpoint's worth of pages (each write adds at least one 4 KiB page).
    for (let i = 0; i < 2000; i++) await set(i);
    const wal = statSync(`${path}-wal`).size;
    assert.ok(wal < 700 * 4096, `the WAL is ${wal} bytes after 2 220 writes with walAutocheckpoint 100`);
  } finally {
    await db.close();
  }
});
