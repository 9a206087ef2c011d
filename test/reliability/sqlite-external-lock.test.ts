// Fault suite: another process (node + better-sqlite3) holds BEGIN IMMEDIATE on the app's SQLite file for 8 s (four times
// db.sqlite.busyTimeout, 2 s here) while paced reads and writes go to the notes demo under
// `holdfast serve`. What must hold: reads keep being served (WAL lets them run beside the lock),
// and every write answers 2xx or 503 with Retry-After no later than its bound, min(busyTimeout,
// deadline) — its time queued behind other waiting writes included.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { Agent } from "node:http";
import { join } from "node:path";
import { test } from "node:test";
import { startHoldfast } from "../support/holdfast-process.js";
import { dueAt, waitUntil } from "../support/paced.js";
import { type TimedAnswer, timedCall } from "../support/timed-call.js";

const NOTES = new URL("../../examples/notes/app.js", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;
const BUSY_TIMEOUT_MS = 2000;
const LOCK_MS = 8000;
/** Above the bound a write may take: HTTP, the event loop and scheduling on a busy 2-core machine. */
const TOLERANCE_MS = 1000;
const READS_PER_S = 80;
const WRITES_PER_S = 40;
const BEFORE_MS = 2000;
const AFTER_MS = 3000;
const REQUEST_LIMIT_MS = 20_000;

type Done = TimedAnswer;

function call(port: number, agent: Agent, method: string, path: string, body?: string): Promise<Done> {
  return timedCall(port, agent, method, path, body, REQUEST_LIMIT_MS);
}

/** A second process (node with better-sqlite3) that takes the write lock, holds it, and says when it has and when it let go. */
function holdLock(file: string, ms: number): { locked: Promise<number>; released: Promise<number>; kill: () => void } {
  const script = [
    'const Database = require("better-sqlite3");',
    "const db = new Database(process.argv[1], { timeout: 10000 });",
    'db.exec("BEGIN IMMEDIATE");',
    'console.log("locked");',
    'setTimeout(() => { db.exec("COMMIT"); db.close(); console.log("released"); }, Number(process.argv[2]));',
  ].join("\n");
  // cwd: the repository, so require() finds its better-sqlite3.
  const child = spawn(process.execPath, ["-e", script, file, String(ms)], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  const seen = (word: string) =>
    new Promise<number>((resolve, reject) => {
      const check = () => {
        if (out.includes(word)) resolve(Date.now());
      };
      child.stdout.on("data", (d) => {
        out += d;
        check();
      });
      child.stderr.on("data", (d) => {
        err += d;
      });
      child.once("exit", (code) => {
        check();
        reject(new Error(`the lock-holding process exited (${code}) before "${word}": ${err}`));
      });
    });
  const locked = seen("locked");
  const released = seen("released");
  locked.catch(() => {});
  released.catch(() => {});
  return { locked, released, kill: () => child.exitCode === null && child.kill("SIGKILL") };
}

test("another process holds the SQLite write lock for 8 s: reads keep being served, every write answers within min(busyTimeout, deadline)", async () => {
  const hf = await startHoldfast(NOTES, { workers: 2, env: { HOLDFAST_LOG_REQUESTS: "errors", HOLDFAST_DB_SQLITE_BUSY_TIMEOUT: `${BUSY_TIMEOUT_MS}ms` } });
  const port = Number(new URL(hf.appUrl).port);
  const agent = new Agent({ keepAlive: true, maxSockets: 400 });
  let holder: ReturnType<typeof holdLock> | undefined;
  try {
    // The table exists and holds a few notes before the load starts.
    for (let i = 0; i < 5; i++) assert.equal((await call(port, agent, "POST", "/api/notes", JSON.stringify({ title: `seed ${i}` }))).status, 201);

    const inflight: Promise<Done>[] = [];
    const started = Date.now();
    let lockAt = Number.POSITIVE_INFINITY;
    let releasedAt = Number.POSITIVE_INFINITY;
    let reads = 0;
    let writes = 0;
    // Paced open-loop load (requests do not wait for each other, as from many users), bounded in count and time.
    const maxRunMs = BEFORE_MS + LOCK_MS + AFTER_MS + 15_000;
    while (Date.now() - started < maxRunMs) {
      const now = Date.now();
      if (holder === undefined && now - started >= BEFORE_MS) {
        holder = holdLock(join(hf.dir, "app.db"), LOCK_MS);
        holder.locked.then((at) => {
          lockAt = at;
        });
        holder.released.then((at) => {
          releasedAt = at;
        });
      }
      if (releasedAt !== Number.POSITIVE_INFINITY && now - releasedAt >= AFTER_MS) break;
      const elapsed = (now - started) / 1000;
      while (reads < elapsed * READS_PER_S) {
        reads++;
        inflight.push(call(port, agent, "GET", "/api/notes?limit=10"));
      }
      while (writes < elapsed * WRITES_PER_S) {
        writes++;
        inflight.push(call(port, agent, "POST", "/api/notes", JSON.stringify({ title: `note ${writes}` })));
      }
      await waitUntil(Math.min(dueAt(started, reads, READS_PER_S), dueAt(started, writes, WRITES_PER_S)));
    }
    const done = await Promise.all(inflight);
    assert.ok(Number.isFinite(lockAt) && Number.isFinite(releasedAt), "the second process took and released the lock");
    const heldMs = releasedAt - lockAt;
    assert.ok(heldMs >= LOCK_MS - 100, `the lock was held ${heldMs} ms`);

    // Requests that started while the other process held the lock.
    const during = done.filter((d) => d.start >= lockAt && d.start < releasedAt);
    const readsDuring = during.filter((d) => d.method === "GET");
    const writesDuring = during.filter((d) => d.method === "POST");
    const ok = (d: Done) => d.status >= 200 && d.status < 300;
    const readsOk = readsDuring.filter(ok).length;
    const writes2xx = writesDuring.filter(ok).length;
    const writes503 = writesDuring.filter((d) => d.status === 503);
    const codes = new Map<string, number>();
    for (const d of writes503) codes.set(d.code ?? "?", (codes.get(d.code ?? "?") ?? 0) + 1);
    const readCodes = new Map<string, number>();
    for (const d of readsDuring.filter((x) => !ok(x))) readCodes.set(`${d.status} ${d.code ?? ""}`, (readCodes.get(`${d.status} ${d.code ?? ""}`) ?? 0) + 1);
    const allWrites = done.filter((d) => d.method === "POST");
    const slowest = allWrites.reduce((m, d) => Math.max(m, d.end - d.start), 0);
    const bound = BUSY_TIMEOUT_MS; // the deadline (30 s) is the larger limit
    const late = allWrites.filter((d) => d.end - d.start > bound + TOLERANCE_MS);
    const badWrites = allWrites.filter((d) => !ok(d) && !(d.status === 503 && d.retryAfter !== undefined));
    const after = done.filter((d) => d.start >= releasedAt + 500);
    const afterWritesOk = after.filter((d) => d.method === "POST" && ok(d)).length;
    const afterWrites = after.filter((d) => d.method === "POST").length;
    const readPct = readsDuring.length ? (100 * readsOk) / readsDuring.length : 0;
    const status = (await (await fetch(`${hf.adminUrl}/metrics`)).text())
      .split("\n")
      .filter((l) => /^holdfast_(sqlite_lock_(shed|timeouts|waits)_total|shed_requests_total|admission_limit)/.test(l));
    console.log(
      `[sqlite-external-lock] lock held ${heldMs} ms by another process, busyTimeout ${BUSY_TIMEOUT_MS} ms: ` +
        `reads during the lock ${readsOk}/${readsDuring.length} 2xx (${readPct.toFixed(1)} %${readCodes.size ? `; the rest ${[...readCodes].map(([c, n]) => `${c} × ${n}`).join(", ")}` : ""}); ` +
        `writes during the lock ${writesDuring.length}: ${writes2xx} 2xx, ${writes503.length} × 503 (${[...codes].map(([c, n]) => `${c} ${n}`).join(", ")}); ` +
        `slowest write ${slowest} ms (bound ${bound} ms + ${TOLERANCE_MS} ms), ${late.length} later than that; ` +
        `after the lock ${afterWritesOk}/${afterWrites} writes 2xx; ${done.length} requests in all; ${status.join(", ")}`,
    );
    assert.ok(readsDuring.length >= 100, `enough reads during the lock to measure (${readsDuring.length})`);
    assert.ok(readPct >= 95, `reads during the lock: ${readsOk} of ${readsDuring.length} answered 2xx (${readPct.toFixed(1)} %), need ≥ 95 %`);
    assert.deepEqual(
      badWrites.map((d) => `${d.status} ${d.code ?? ""} retry-after=${d.retryAfter ?? "none"}`),
      [],
      "every write answered 2xx, or 503 with Retry-After",
    );
    assert.deepEqual(
      late.map((d) => `${d.status} ${d.code ?? ""} after ${d.end - d.start} ms`),
      [],
      `no write answered later than ${bound + TOLERANCE_MS} ms`,
    );
    assert.ok(writes503.length > 0, "writes during the lock met it (some answered 503)");
    const afterFailed = after.filter((d) => d.method === "POST" && !ok(d)).map((d) => `${d.status} ${d.code ?? ""} ${d.start - releasedAt} ms after release`);
    assert.ok(
      afterWrites > 0 && afterWritesOk === afterWrites,
      `writes after the lock was released succeed (${afterWritesOk}/${afterWrites}): ${afterFailed.join("; ")}`,
    );
  } finally {
    holder?.kill();
    agent.destroy();
    await hf.stop();
  }
});
