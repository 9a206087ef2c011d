/**
 * Another PROCESS holds the SQLite write lock: holdfast's event loop keeps turning, reads keep
 * completing, and writes either wait and succeed or fail with DB_LOCKED at their deadline.
 * And a read-then-write transaction never gets the immediate SQLITE_BUSY that a deferred
 * transaction gets (shown first on a raw connection, so the test can fail).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { after, test } from "node:test";
import BetterSqlite3 from "better-sqlite3";
import { pino } from "pino";
import { Deadline, runWithContext } from "../src/context/index.js";
import { type Database, openDatabase, sql } from "../src/db/index.js";
import { eventually } from "./support/wait.js";

const BETTER_SQLITE3 = createRequire(import.meta.url).resolve("better-sqlite3");
const dir = mkdtempSync(join(tmpdir(), "holdfast-lock-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A separate node process that talks to the file with plain better-sqlite3. Commands on stdin:
 * `hold <ms>` (BEGIN IMMEDIATE, insert, wait, COMMIT), `write` (one autocommit insert, waiting
 * up to 5 s for the lock). It answers `locked`, `released`, `wrote` on stdout.
 */
const OTHER_PROCESS = `
const Database = require(process.env.BS3);
const db = new Database(process.env.DB_PATH);
db.pragma("busy_timeout = 5000");
require("node:readline").createInterface({ input: process.stdin }).on("line", (line) => {
  const [cmd, arg] = line.split(" ");
  if (cmd === "hold") {
    db.exec("BEGIN IMMEDIATE");
    db.prepare("INSERT INTO t (who) VALUES ('other')").run();
    console.log("locked");
    setTimeout(() => { db.exec("COMMIT"); console.log("released"); }, Number(arg));
  } else if (cmd === "write") {
    db.prepare("INSERT INTO t (who) VALUES ('other-write')").run();
    console.log("wrote");
  } else if (cmd === "exit") process.exit(0);
});
console.log("ready");
`;

interface Other {
  child: ChildProcess;
  send(line: string): void;
  waitFor(word: string, ms?: number): Promise<void>;
}

function startOther(path: string): Promise<Other> {
  const child = spawn(process.execPath, ["-e", OTHER_PROCESS], {
    env: { ...process.env, BS3: BETTER_SQLITE3, DB_PATH: path },
    stdio: ["pipe", "pipe", "inherit"],
  });
  let out = "";
  const waiters: { word: string; resolve: () => void }[] = [];
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
    for (const w of [...waiters]) {
      if (out.includes(w.word)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  const other: Other = {
    child,
    send: (line) => child.stdin?.write(`${line}\n`),
    waitFor: (word, ms = 10_000) =>
      new Promise<void>((resolve, reject) => {
        if (out.includes(word)) {
          out = out.replace(word, "");
          return resolve();
        }
        const t = setTimeout(() => reject(new Error(`other process did not say "${word}" within ${ms} ms; stdout so far: ${out}`)), ms);
        waiters.push({
          word,
          resolve: () => {
            clearTimeout(t);
            out = out.replace(word, "");
            resolve();
          },
        });
      }),
  };
  return other.waitFor("ready").then(() => other);
}

/** Log lines the database wrote (pino JSON), for the events the doctor reads. */
const logged: Record<string, unknown>[] = [];
const log = pino({ level: "info" }, { write: (line: string) => void logged.push(JSON.parse(line)) });

async function setup(name: string, busyTimeout = 5000): Promise<{ db: Database; path: string }> {
  const path = join(dir, name);
  const db = await openDatabase(`sqlite:${path}`, { sqlite: { busyTimeout }, log });
  await db.run("CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT NOT NULL, n INTEGER NOT NULL DEFAULT 0)");
  await db.run("INSERT INTO t (who) VALUES ('seed')");
  return { db, path };
}

function inRequest<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  return runWithContext({ requestId: "test", deadline: Deadline.after(ms), signal: new AbortController().signal }, fn);
}

test("another process holds the write lock for 3 s: event-loop lag stays under 20 ms, reads keep completing, writes wait or fail with DB_LOCKED at their deadline", async () => {
  const { db, path } = await setup("held.db");
  const other = await startOther(path);
  try {
    other.send("hold 3000");
    await other.waitFor("locked");
    const heldAt = performance.now();

    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    let maxDrift = 0;
    let last = performance.now();
    const drift = setInterval(() => {
      const now = performance.now();
      maxDrift = Math.max(maxDrift, now - last - 5);
      last = now;
    }, 5);

    // A write with a 1 s request deadline: must fail with DB_LOCKED at about 1 s, not hang for 3 s or 5 s.
    const deadlined = (async () => {
      const t = performance.now();
      try {
        await inRequest(1000, () => db.run("INSERT INTO t (who) VALUES ('deadlined')"));
        return { ok: true as const, ms: performance.now() - t };
      } catch (e) {
        return { ok: false as const, code: (e as { code?: string }).code, ms: performance.now() - t, message: (e as Error).message };
      }
    })();
    // Writes queued behind it with 1.5 s deadlines: DB_LOCKED too (they wait behind a lock wait).
    const queued = Array.from({ length: 5 }, () =>
      inRequest(1500, () => db.run("INSERT INTO t (who) VALUES ('queued')")).then(
        () => "ok",
        (e: { code?: string }) => e.code,
      ),
    );
    // A write with no request deadline: bounded by busyTimeout (5 s) > 3 s, so it waits and succeeds.
    const patient = db.run("INSERT INTO t (who) VALUES ('patient')").then(() => performance.now() - heldAt);
    // A read-then-write transaction with no deadline: waits for the lock, then commits.
    const txn = db.transaction(async (tx) => {
      const row = await tx.get<{ n: number }>("SELECT count(*) AS n FROM t");
      await tx.run(sql`INSERT INTO t (who, n) VALUES (${"txn"}, ${row?.n ?? 0})`);
      return "committed";
    });

    // Reads keep completing while the lock is held: 4 readers, one read per millisecond each
    // (a request-like pace, so the test's own allocation and GC do not drown the measurement).
    let reads = 0;
    let slowestRead = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (performance.now() - heldAt < 2500) {
          const t = performance.now();
          const rows = await db.query("SELECT * FROM t");
          assert.ok(rows.length >= 1);
          slowestRead = Math.max(slowestRead, performance.now() - t);
          reads++;
          await new Promise((r) => setTimeout(r, 1));
        }
      }),
    );
    const d = await deadlined;
    const q = await Promise.all(queued);
    const patientMs = await patient;
    assert.equal(await txn, "committed");
    clearInterval(drift);
    h.disable();
    await other.waitFor("released");

    const p99 = h.percentile(99) / 1e6;
    const max = h.max / 1e6;
    console.log(
      `lock held 3 s: ${reads} reads (slowest ${slowestRead.toFixed(1)} ms), event-loop delay p99 ${p99.toFixed(1)} ms max ${max.toFixed(1)} ms, interval drift max ${maxDrift.toFixed(1)} ms; deadlined write ${JSON.stringify(d)}; queued ${q.join(",")}; patient write after ${patientMs.toFixed(0)} ms`,
    );
    assert.ok(p99 < 20, `event-loop delay p99 ${p99} ms`);
    // The max is at the mercy of the OS scheduler: with the suite running two files at once on 2
    // cores (one of them 4 processes × 3 threads of writers), a runnable thread can wait 100–200 ms
    // for a core. A lock wait on the main thread would show as ≥ 1000 ms (the deadlined write) or
    // 3000 ms (the lock hold), so 500 ms still catches the bug this test is about.
    assert.ok(max < 500 && maxDrift < 500, `event-loop delay max ${max} ms, setInterval drift max ${maxDrift} ms`);
    assert.ok(reads > 100, `only ${reads} reads completed in 2.5 s while the lock was held`);
    assert.ok(slowestRead < 200, `slowest read ${slowestRead} ms`);
    assert.equal(d.ok, false, "the deadlined write should not succeed while the lock is held");
    assert.equal(d.code, "DB_LOCKED", d.ok ? "" : d.message);
    assert.ok(d.ms >= 900 && d.ms < 1400, `DB_LOCKED after ${d.ms} ms, expected about 1000 ms`);
    assert.deepEqual(q, ["DB_LOCKED", "DB_LOCKED", "DB_LOCKED", "DB_LOCKED", "DB_LOCKED"]);
    assert.ok(patientMs >= 2900 && patientMs < 4000, `patient write finished ${patientMs} ms after the lock was taken`);

    const who = (await db.query<{ who: string }>("SELECT who FROM t")).map((r) => r.who);
    assert.ok(who.includes("other") && who.includes("patient") && who.includes("txn"));
    assert.ok(!who.includes("deadlined") && !who.includes("queued"), "a write that reported DB_LOCKED must not have been applied");
    const lockedEvents = logged.filter((l) => l.event === "db.locked" && l.path === path);
    assert.ok(lockedEvents.length >= 6, `expected a db.locked log event per DB_LOCKED, got ${lockedEvents.length}`);
    assert.ok(
      lockedEvents.every((l) => typeof l.waitedMs === "number"),
      "db.locked events carry waitedMs for the doctor",
    );
    // The thread counts from when it began waiting for the lock, not from when the caller queued the
    // write: on a busy 2-core machine the write reached the thread 120 ms after it was queued
    // (d.ms 1017, event 895 ms; .ci/run, 2026-12-02). A wait that never reached the thread shows as
    // 0 or a few ms, so 700 still tells the two apart.
    assert.ok(
      lockedEvents.some((l) => (l.waitedMs as number) >= 700),
      `the deadlined write's event shows it waited most of its 1 s deadline (events: ${lockedEvents.map((l) => l.waitedMs).join(", ")} ms)`,
    );
    const s = db.status();
    assert.ok((s.sqlite?.lockWaits ?? 0) >= 1 && (s.sqlite?.lockTimeouts ?? 0) >= 1, JSON.stringify(s.sqlite));
  } finally {
    other.send("exit");
    await db.close();
  }
});

test("a deferred read-then-write transaction gets SQLITE_BUSY at once on a raw connection; holdfast's transaction does not", async () => {
  const { db, path } = await setup("snapshot.db");
  const other = await startOther(path);
  try {
    // Control: the hazard is real. BEGIN (deferred), read, another connection commits, write → busy at once.
    const raw = new BetterSqlite3(path);
    raw.pragma("busy_timeout = 5000");
    raw.exec("BEGIN");
    raw.prepare("SELECT count(*) FROM t").get();
    other.send("write");
    await other.waitFor("wrote");
    const t = performance.now();
    assert.throws(
      () => raw.prepare("INSERT INTO t (who) VALUES ('raw')").run(),
      (e: { code?: string }) => String(e.code).startsWith("SQLITE_BUSY"),
    );
    assert.ok(performance.now() - t < 1000, "the deferred transaction failed at once, busy_timeout did not help");
    raw.exec("ROLLBACK");
    raw.close();

    // holdfast: BEGIN IMMEDIATE, so the other writer waits for us instead.
    const result = await db.transaction(async (tx) => {
      const before = await tx.get<{ n: number }>("SELECT count(*) AS n FROM t");
      other.send("write");
      await new Promise((r) => setTimeout(r, 150));
      await tx.run(sql`INSERT INTO t (who, n) VALUES (${"hf"}, ${before?.n ?? 0})`);
      return before?.n;
    });
    await other.waitFor("wrote");
    assert.equal(typeof result, "number");
    const rows = await db.query<{ who: string }>("SELECT who FROM t WHERE who IN ('hf', 'other-write')");
    assert.equal(rows.length, 3, "holdfast's write and both of the other process's writes are all in the file");
  } finally {
    other.send("exit");
    await db.close();
  }
});

test("a transaction whose caller hangs past its deadline is rolled back and releases the writer", async () => {
  const { db } = await setup("hang.db");
  try {
    const started = performance.now();
    const hung = inRequest(300, () =>
      db.transaction(async (tx) => {
        await tx.run("INSERT INTO t (who) VALUES ('hung')");
        await new Promise((r) => setTimeout(r, 1500));
        return "finished";
      }),
    ).catch((e: { code?: string }) => e.code);
    // Another write queued behind it completes soon after the 300 ms deadline, not after 1.5 s.
    await eventually(() => db.status().pool.busy >= 1, 5_000, "the hung transaction holding the writer");
    await db.run("INSERT INTO t (who) VALUES ('next')");
    const nextMs = performance.now() - started;
    assert.ok(nextMs < 1000, `the next write waited ${nextMs} ms for a hung transaction`);
    assert.equal(await hung, "DEADLINE_EXCEEDED");
    const who = (await db.query<{ who: string }>("SELECT who FROM t")).map((r) => r.who);
    assert.ok(who.includes("next") && !who.includes("hung"), `rows: ${who.join(",")}`);
    assert.equal(db.status().pool.leaks, 1);
  } finally {
    await db.close();
  }
});
