/**
 * Recovery: the server kills every connection of the pool (pg_terminate_backend, as a DBA or a
 * failover does) while requests are running. Callers must get a fast error or a result, never
 * hang, and the pool must serve again within 2 s.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Deadline, runWithContext } from "../src/context/index.js";
import { openPostgres } from "../src/db/postgres/index.js";
import { backendCount, PG_URL, requirePostgres, terminateApp, uniqueName } from "./support/postgres.js";
import { eventually, sleep } from "./support/wait.js";

/** Marks a call that has not settled after `ms`: the "no caller hangs" check. */
function orHang<T>(p: Promise<T>, ms: number): Promise<T | "HANG"> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<"HANG">((r) => {
    timer = setTimeout(() => r("HANG"), ms);
  });
  return Promise.race([p, hang]).finally(() => clearTimeout(timer));
}

interface Outcome {
  start: number;
  end: number;
  ok: boolean;
  code?: string;
}

test("pg_terminate_backend on every pool connection mid-load: no caller hangs and the pool recovers within 2 s", async (t) => {
  if (!(await requirePostgres(t))) return;
  const app = uniqueName("hf_recovery");
  const db = openPostgres(PG_URL, { pool: { max: 5, acquireTimeout: 2000 }, applicationName: app });
  const outcomes: Outcome[] = [];
  const t0 = performance.now();
  const LOAD_MS = 3500;
  const KILL_AT = 1000;
  let hangs = 0;
  const loop = async () => {
    // Bounded in count and time: at most 400 calls per loop, stops after LOAD_MS.
    for (let i = 0; i < 400 && performance.now() - t0 < LOAD_MS; i++) {
      const start = performance.now() - t0;
      // Each call runs as a request with a 3 s deadline, as the server would give it.
      const ctx = { requestId: `r${i}`, deadline: Deadline.after(3000), signal: new AbortController().signal };
      const r = await orHang(
        runWithContext(ctx, () => db.query("select pg_sleep(0.02), 1 as one")).then(
          () => ({ ok: true }) as const,
          (e: { code?: string }) => ({ ok: false, code: e.code }) as const,
        ),
        4000,
      );
      if (r === "HANG") {
        hangs++;
        return;
      }
      outcomes.push({ start, end: performance.now() - t0, ...r });
    }
  };
  const loops = Array.from({ length: 10 }, loop);
  await sleep(KILL_AT);
  const killed = await terminateApp(app);
  const killedAt = performance.now() - t0;
  await Promise.all(loops);

  try {
    assert.ok(killed >= 1, `terminated ${killed} backends (the test must actually kill connections)`);
    assert.equal(hangs, 0, "no caller hung");
    const failures = outcomes.filter((o) => !o.ok);
    for (const f of failures) {
      assert.equal(f.code, "DB_UNAVAILABLE", `a killed statement fails as DB_UNAVAILABLE (503), got ${f.code}`);
      assert.ok(f.end - f.start < 1000, `failed in ${Math.round(f.end - f.start)} ms, not after a long wait`);
    }
    const firstOkAfterKill = outcomes.filter((o) => o.ok && o.start >= killedAt).sort((a, b) => a.end - b.end)[0];
    assert.ok(firstOkAfterKill, "queries succeed again after the kill");
    assert.ok(firstOkAfterKill.end - killedAt < 2000, `first success ${Math.round(firstOkAfterKill.end - killedAt)} ms after the kill`);
    const late = outcomes.filter((o) => o.start > killedAt + 2000);
    assert.ok(late.length > 0, "load continued past the recovery window");
    assert.deepEqual(
      late.filter((o) => !o.ok),
      [],
      "every call started 2 s after the kill succeeded",
    );
    const s = db.status().pool;
    assert.ok(s.destroys >= killed, `destroyed ${s.destroys} broken connections (killed ${killed})`);
    t.diagnostic(
      `killed ${killed} backends; ${outcomes.length} calls, ${failures.length} failed (DB_UNAVAILABLE); first success ${Math.round(firstOkAfterKill.end - killedAt)} ms after the kill`,
    );
  } finally {
    await db.close();
  }
});

test("connections killed while idle are replaced without the next callers seeing an error", async (t) => {
  if (!(await requirePostgres(t))) return;
  const app = uniqueName("hf_idle_kill");
  const db = openPostgres(PG_URL, { pool: { max: 3 }, applicationName: app });
  try {
    await Promise.all([1, 2, 3].map(() => db.query("select pg_sleep(0.05)")));
    assert.equal(db.status().pool.idle, 3);
    // Seen by the server first: a backend's pg_stat_activity row can trail its connection on a busy machine.
    await eventually(async () => (await backendCount(app)) === 3, 10_000, "the pool's three backends in pg_stat_activity");
    const killed = await terminateApp(app);
    assert.equal(killed, 3);
    // The backends have exited (their sockets are dead); the pool finds out when it hands them out.
    await eventually(async () => (await backendCount(app)) === 0, 10_000, "the three terminated backends gone from pg_stat_activity");
    const rows = await Promise.all([1, 2, 3].map(() => db.get<{ one: number }>("select 1 as one")));
    assert.deepEqual(
      rows.map((r) => r?.one),
      [1, 1, 1],
    );
    const live = await backendCount(app);
    assert.ok(live >= 1 && live <= 3, `${live} live backends`);
  } finally {
    await db.close();
  }
});
