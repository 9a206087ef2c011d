/**
 * What a server restart, a silent network and a black-holed server look like to the driver.
 * A TCP relay on 127.0.0.1 (port 0) sits between the pool and the real PostgreSQL: stopping it
 * resets every connection and refuses new ones (a restart); pausing it freezes traffic (a
 * dropped network); "blackhole" accepts connections and never answers.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Deadline, runWithContext } from "../src/context/index.js";
import { openPostgres } from "../src/db/postgres/index.js";
import { PG_URL, requirePostgres, uniqueName } from "./support/postgres.js";
import { TcpRelay } from "./support/tcp-relay.js";
import { sleep } from "./support/wait.js";

function inRequest<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  return runWithContext({ requestId: "req", deadline: Deadline.after(ms), signal: new AbortController().signal }, fn);
}

test("server restart (connections reset, refused for 1 s): callers end within their deadline and the pool reconnects by itself", async (t) => {
  if (!(await requirePostgres(t))) return;
  const relay = new TcpRelay(PG_URL);
  await relay.start();
  const db = openPostgres(relay.url(), { pool: { max: 3, acquireTimeout: 3000 }, applicationName: uniqueName("hf_restart") });
  try {
    await Promise.all([1, 2, 3].map(() => db.query("select pg_sleep(0.02)")));
    const t0 = performance.now();
    const outcomes: { start: number; end: number; code?: string }[] = [];
    const DEADLINE = 1500;
    const loop = async () => {
      for (let i = 0; i < 500 && performance.now() - t0 < 4500; i++) {
        const start = performance.now() - t0;
        const code = await inRequest(DEADLINE, () => db.query("select pg_sleep(0.01)")).then(
          () => undefined,
          (e: { code?: string }) => e.code ?? "UNCODED",
        );
        outcomes.push({ start, end: performance.now() - t0, code });
        if (code) await sleep(20); // a client backing off after a 503
      }
    };
    const loops = Array.from({ length: 5 }, loop);
    await sleep(500);
    await relay.stop();
    const downAt = performance.now() - t0;
    await sleep(1000);
    await relay.start();
    const upAt = performance.now() - t0;
    await Promise.all(loops);

    for (const o of outcomes) {
      assert.ok(o.end - o.start < DEADLINE + 1000, `a call took ${Math.round(o.end - o.start)} ms with a ${DEADLINE} ms deadline`);
      // 503s, or a 504 for a statement that was on a reset connection until its deadline.
      if (o.code) assert.ok(["DB_UNAVAILABLE", "POOL_TIMEOUT", "DEADLINE_EXCEEDED"].includes(o.code), `unexpected ${o.code}`);
    }
    assert.ok(
      outcomes.some((o) => o.code && o.end > downAt),
      "the outage was visible to callers (the test really broke the connections)",
    );
    const firstOk = outcomes.filter((o) => !o.code && o.start > upAt).sort((a, b) => a.end - b.end)[0];
    assert.ok(firstOk, "queries succeed again after the restart");
    assert.ok(firstOk.end - upAt < 2000, `first success ${Math.round(firstOk.end - upAt)} ms after the server came back`);
    const late = outcomes.filter((o) => o.start > upAt + 2000);
    assert.ok(late.length > 0);
    assert.deepEqual(
      late.filter((o) => o.code),
      [],
      "every call 2 s after the restart succeeded",
    );
    const s = db.status().pool;
    assert.ok(s.createErrors >= 1 && s.createErrors <= 20, `${s.createErrors} failed connection attempts during 1 s down (backoff, no busy loop)`);
    t.diagnostic(`${outcomes.length} calls; first success ${Math.round(firstOk.end - upAt)} ms after restart; ${s.createErrors} failed connects`);
  } finally {
    await db.close();
    await relay.stop();
  }
});

test("a network that goes silent mid-statement: the statement still ends at the deadline and the connection is replaced", async (t) => {
  if (!(await requirePostgres(t))) return;
  const relay = new TcpRelay(PG_URL);
  await relay.start();
  const db = openPostgres(relay.url(), { pool: { max: 1 }, applicationName: uniqueName("hf_silent") });
  try {
    await db.query("select 1");
    relay.freeze();
    const t0 = performance.now();
    const err = (await inRequest(300, () => db.query("select 1")).catch((e: unknown) => e)) as { code?: string };
    const took = performance.now() - t0;
    assert.equal(err.code, "DEADLINE_EXCEEDED");
    // 300 ms deadline, then up to 1 s for the server to act on the cancel before the socket is closed.
    assert.ok(took >= 280 && took < 2000, `ended after ${Math.round(took)} ms`);
    assert.deepEqual(await db.query<{ one: number }>("select 1 as one"), [{ one: 1 }], "a new connection serves the next call");
    assert.ok(db.status().pool.destroys >= 1);
  } finally {
    await db.close();
    await relay.stop();
  }
});

test("a black-holed server (accepts, never answers): acquires end within the request deadline with a 503 code", async (t) => {
  if (!(await requirePostgres(t))) return;
  const relay = new TcpRelay(PG_URL);
  relay.mode = "blackhole";
  await relay.start();
  const db = openPostgres(relay.url(), { pool: { max: 2, acquireTimeout: 1000 }, applicationName: uniqueName("hf_hole") });
  try {
    const t0 = performance.now();
    const err = (await inRequest(400, () => db.query("select 1")).catch((e: unknown) => e)) as { code?: string; retryAfter?: number };
    const took = performance.now() - t0;
    assert.ok(err.code === "POOL_TIMEOUT" || err.code === "DB_UNAVAILABLE", String(err.code));
    assert.ok((err.retryAfter ?? 0) > 0);
    assert.ok(took >= 380 && took < 1500, `ended after ${Math.round(took)} ms with a 400 ms deadline`);
  } finally {
    await db.close();
    await relay.stop();
  }
});
