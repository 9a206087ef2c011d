// @run-alone: its healthy-phase and recovery bounds break when other test files load the CPU (scripts/run-tests.mjs).
// Fault suite: the notes demo under `holdfast serve` on PostgreSQL, reached through a TCP relay
// on loopback (the machine's PostgreSQL is never stopped). Under paced mixed load, first every
// connection of the app is killed (pg_terminate_backend, as a DBA or a failover does), then the
// relay stops for 5 s (connections reset, new ones refused: the server is unreachable) and
// starts again. What must hold: every request is answered (2xx, or 503 while the database is
// away: never a 500 or a hang), and the service serves again within 2 s of each event.
import assert from "node:assert/strict";
import { Agent } from "node:http";
import { test } from "node:test";
import { startHoldfast } from "../support/holdfast-process.js";
import { adminQuery, PG_URL, requirePostgres, uniqueName } from "../support/postgres.js";
import { dueAt, waitUntil } from "../support/paced.js";
import { TcpRelay } from "../support/tcp-relay.js";
import { type TimedAnswer, timedCall } from "../support/timed-call.js";

const NOTES = new URL("../../examples/notes/app.js", import.meta.url).pathname;
const PER_S = 60; // paced open loop: two reads for each write
const KILL_AT_MS = 2500;
const DOWN_AT_MS = 5000;
const DOWN_FOR_MS = 5000;
const AFTER_MS = 4000;
const RECOVERY_MS = 2000;
/** db.pool.acquireTimeout (5 s) + HTTP and scheduling on a busy machine: no answer may take longer. */
const ANSWER_LIMIT_MS = 7000;
const REQUEST_LIMIT_MS = 20_000;

type Done = TimedAnswer;

function call(port: number, agent: Agent, method: string, path: string, body?: string): Promise<Done> {
  return timedCall(port, agent, method, path, body, REQUEST_LIMIT_MS);
}

const ok = (d: Done) => d.status >= 200 && d.status < 300;

/** ms from `from` until the first request after which every request that ended before `to` was 2xx (Infinity: never). */
function recoveredAfter(done: Done[], from: number, to: number): number {
  // Only requests that ended before the next fault began: one still in flight then can be hit by it
  // (seen in CI: the last request of the kill window failed with the outage that followed).
  const window = done.filter((d) => d.start >= from && d.end < to).sort((a, b) => a.start - b.start);
  let lastBad = -1;
  window.forEach((d, i) => {
    if (!ok(d)) lastBad = i;
  });
  if (lastBad === window.length - 1) return Number.POSITIVE_INFINITY;
  return lastBad < 0 ? 0 : (window[lastBad + 1] as Done).start - from;
}

const tally = (ds: Done[]) => {
  const m = new Map<string, number>();
  for (const d of ds) {
    const k = ok(d) ? "2xx" : `${d.status}${d.code ? ` ${d.code}` : ""}`;
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return [...m].map(([k, n]) => `${k} × ${n}`).join(", ");
};

test("PostgreSQL connections killed, then the server unreachable for 5 s: 503 meanwhile, never a 500 or a hang, serving again within 2 s", async (t) => {
  if (!(await requirePostgres(t))) return;
  const dbName = uniqueName("hf_pg_outage");
  await adminQuery(`CREATE DATABASE ${dbName}`);
  const relay = new TcpRelay(PG_URL);
  await relay.start();
  const url = new URL(relay.url());
  url.pathname = `/${dbName}`;
  const agent = new Agent({ keepAlive: true, maxSockets: 400 });
  let hf: Awaited<ReturnType<typeof startHoldfast>> | undefined;
  try {
    hf = await startHoldfast(NOTES, { workers: 2, env: { HOLDFAST_DB_URL: url.toString(), HOLDFAST_LOG_REQUESTS: "errors" } });
    const port = Number(new URL(hf.appUrl).port);
    for (let i = 0; i < 5; i++) assert.equal((await call(port, agent, "POST", "/api/notes", JSON.stringify({ title: `seed ${i}` }))).status, 201);

    const inflight: Promise<Done>[] = [];
    const started = Date.now();
    let killAt = 0;
    let killed = 0;
    let downAt = 0;
    let upAt = 0;
    let sent = 0;
    const endMs = DOWN_AT_MS + DOWN_FOR_MS + AFTER_MS;
    // Bounded: PER_S × endMs / 1000 requests at most, over endMs.
    while (Date.now() - started < endMs) {
      const elapsed = Date.now() - started;
      if (!killAt && elapsed >= KILL_AT_MS) {
        killAt = Date.now();
        const rows = await adminQuery<{ ok: boolean }>(
          "select pg_terminate_backend(pid) as ok from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()",
          [dbName],
        );
        killed = rows.filter((r) => r.ok).length;
      }
      if (!downAt && elapsed >= DOWN_AT_MS) {
        downAt = Date.now();
        await relay.stop();
      }
      if (!upAt && elapsed >= DOWN_AT_MS + DOWN_FOR_MS) {
        await relay.start();
        upAt = Date.now();
      }
      while (sent < (elapsed / 1000) * PER_S) {
        sent++;
        inflight.push(
          sent % 3 === 0 ? call(port, agent, "POST", "/api/notes", JSON.stringify({ title: `note ${sent}` })) : call(port, agent, "GET", "/api/notes?limit=10"),
        );
      }
      await waitUntil(dueAt(started, sent, PER_S));
    }
    const done = await Promise.all(inflight);

    const before = done.filter((d) => d.start < killAt);
    const afterKill = done.filter((d) => d.start >= killAt && d.start < downAt);
    const down = done.filter((d) => d.start >= downAt && d.start < upAt);
    const afterUp = done.filter((d) => d.start >= upAt);
    const killRecovery = recoveredAfter(done, killAt, downAt);
    const upRecovery = recoveredAfter(done, upAt, Number.POSITIVE_INFINITY);
    const slowest = done.reduce((m, d) => Math.max(m, d.end - d.start), 0);
    // The pool's own view, free of this process's and the HTTP path's scheduling: per worker, from the
    // relay's return to that worker's first connection opened after failures (its pool.recovered line).
    const logs = hf.logLines();
    const failedWorkers = new Set(logs.filter((l) => l.event === "pool.create_failed" && Date.parse(String(l.time)) >= downAt).map((l) => Number(l.workerId)));
    const poolRecovery = new Map<number, number>();
    for (const l of logs) {
      const at = Date.parse(String(l.time));
      if (l.event === "pool.recovered" && at >= upAt - 1000 && !poolRecovery.has(Number(l.workerId)))
        poolRecovery.set(Number(l.workerId), Math.max(0, at - upAt));
    }
    const poolRecoveryText = [...failedWorkers]
      .sort()
      .map((w) => `worker ${w} ${poolRecovery.get(w) ?? "never"} ms`)
      .join(", ");
    const downLatencies = down.map((d) => d.end - d.start).sort((a, b) => a - b);
    // Why requests were shed before any fault (the workers' own shed and overload events), for a failure's evidence.
    const shedBefore = new Map<string, number>();
    for (const l of logs) {
      if ((l.event === "shed" || l.event === "admission.overload") && Date.parse(String(l.time)) < killAt) {
        const k = l.event === "shed" ? String(l.reason) : "overload began";
        shedBefore.set(k, (shedBefore.get(k) ?? 0) + 1);
      }
    }
    console.log(
      `[postgres-outage] ${done.length} requests: before ${tally(before)}${shedBefore.size ? ` (${[...shedBefore].map(([k, n]) => `${k} × ${n}`).join(", ")})` : ""}; ` +
        `${killed} connections killed: ${tally(afterKill)}, serving again after ${killRecovery} ms; ` +
        `unreachable ${upAt - downAt} ms: ${tally(down)} (answered after p50 ${downLatencies[Math.floor(downLatencies.length / 2)] ?? 0} ms, max ${downLatencies.at(-1) ?? 0} ms); ` +
        `back: ${tally(afterUp)}, serving again after ${upRecovery} ms (pools connected again after: ${poolRecoveryText || "no create failures logged"}); slowest answer ${slowest} ms`,
    );
    assert.ok(killed > 0, "the app had connections to kill");
    // Before the faults: every answer 2xx or a shed (503 OVERLOADED), and nearly all 2xx. A CPU-starved
    // machine makes admission shed a little even at 60 requests a second: 17 of 150 in a local CI run at
    // load average 8 on 2 cores (2026-12-01); beside six busy loops, queue-delay sheds at a limit the
    // light load had decayed to 4.
    // That is the overload issue's open problem, judged by bench:overload at 0.5× and 0.8×; this test
    // is about the outage, so it holds the healthy phase to 85 % 2xx and no other failure.
    const okBefore = before.filter(ok).length;
    const shedBeforeFaults = before.filter((d) => d.status === 503 && d.code === "OVERLOADED").length;
    assert.ok(
      okBefore + shedBeforeFaults === before.length && okBefore >= before.length * 0.85,
      `before the faults every answer is 2xx or a shed, ≥ 85 % 2xx (${tally(before)})`,
    );
    const bad = done.filter((d) => !ok(d) && d.status !== 503);
    assert.deepEqual(
      bad.map((d) => `${d.method} ${d.status} ${d.code ?? ""}`),
      [],
      "every failure is a 503 (never a 500, a reset or a hang)",
    );
    assert.deepEqual(
      done.filter((d) => d.status === 503 && d.retryAfter === undefined).map((d) => d.code),
      [],
      "every 503 carries Retry-After",
    );
    assert.ok(
      down.some((d) => d.status === 503),
      `while unreachable, requests answer 503 (${tally(down)})`,
    );
    assert.ok(slowest <= ANSWER_LIMIT_MS, `slowest answer ${slowest} ms, at most ${ANSWER_LIMIT_MS} ms`);
    assert.ok(killRecovery <= RECOVERY_MS, `serving again ${killRecovery} ms after the kill, at most ${RECOVERY_MS} ms`);
    assert.ok(failedWorkers.size > 0, "the pools logged failed connection attempts while the server was unreachable");
    for (const w of failedWorkers) {
      const ms = poolRecovery.get(w);
      assert.ok(
        ms !== undefined && ms <= RECOVERY_MS,
        `worker ${w}'s pool connected again ${ms ?? "never"} ms after the server came back, at most ${RECOVERY_MS} ms`,
      );
    }
    assert.ok(upRecovery <= RECOVERY_MS, `serving again ${upRecovery} ms after the server came back, at most ${RECOVERY_MS} ms`);
  } finally {
    agent.destroy();
    await hf?.stop();
    await relay.stop();
    await adminQuery(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch((err) => console.error(`could not drop ${dbName}: ${(err as Error).message}`));
  }
});
