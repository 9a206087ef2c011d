// Pool lifecycle: leaks, validation, lifetime, idle eviction, keepalive, create backoff. Idle, lifetime and
// validation ages are read from an injected clock that the tests move; what runs on a timer is polled for.
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import pino from "pino";
import { Pool, type PoolOptions } from "./index.js";

interface Dummy {
  n: number;
  closed: boolean;
}

/** A clock the test moves by hand: the pool's `now` option. */
function manualClock() {
  let t = 1_000;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
  };
}

/** Resolves once `condition` holds; fails after `ms` (a timer of the pool must fire, so this is polled). */
async function until(condition: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) assert.fail(`${what}: not within ${ms} ms`);
    await sleep(5);
  }
}

/** A pino logger whose JSON lines land in `lines`. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split("\n")) if (l) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { log: pino({ level: "info" }, stream), lines };
}

function counting(o: Partial<PoolOptions<Dummy>> = {}) {
  const made: Dummy[] = [];
  const pool = new Pool<Dummy>({
    create: async () => {
      const d = { n: made.length + 1, closed: false };
      made.push(d);
      return d;
    },
    destroy: (d) => {
      d.closed = true;
    },
    ...o,
  });
  return { pool, made };
}

test("a lease held past leakDetectionThreshold is logged once with the acquirer's stack", async () => {
  const { log, lines } = capturingLogger();
  const { pool } = counting({ leakDetectionThreshold: 50, log });
  const lease = await pool.acquire(); // the stack must point at this file
  await until(() => lines.some((l) => l.event === "pool.leak"), "pool.leak logged");
  const leak = lines.find((l) => l.event === "pool.leak") as Record<string, unknown>;
  assert.match(String(leak.stack), /pool-lifecycle\.test\.ts/);
  assert.ok(Number(leak.heldMs) >= 50);
  assert.equal(pool.status().leaks, 1);
  lease.release();
  await pool.close();
});

test("no leak is reported for a lease returned in time", async () => {
  const { log, lines } = capturingLogger();
  const { pool } = counting({ leakDetectionThreshold: 50, log });
  // Two leases from the same moment: the one returned at once must stay silent while the one still
  // held is reported (its timer, armed just after, fires after the first one's would have).
  const [returned, held] = await Promise.all([pool.acquire(), pool.acquire()]);
  returned.release();
  await until(() => lines.some((l) => l.event === "pool.leak"), "the held lease reported");
  const leaks = lines.filter((l) => l.event === "pool.leak");
  assert.equal(leaks.length, 1, "only the lease still held");
  assert.equal(pool.status().leaks, 1);
  held.release();
  await pool.close();
});

test("validation runs on borrow only after validateAfterIdle, and a failed check replaces the resource", async () => {
  let checks = 0;
  let healthy = true;
  const clock = manualClock();
  const { pool, made } = counting({
    now: clock.now,
    validateAfterIdle: 60,
    validate: () => {
      checks++;
      return healthy;
    },
  });
  (await pool.acquire()).release();
  (await pool.acquire()).release();
  assert.equal(checks, 0, "a resource used a moment ago is not checked");
  clock.advance(90);
  const checked = await pool.acquire();
  assert.equal(checks, 1, "idle past the threshold: checked once");
  assert.equal(checked.resource, made[0]);
  checked.release();
  clock.advance(90);
  healthy = false;
  const replaced = pool.acquire();
  setTimeout(() => {
    healthy = true;
  }, 5);
  const lease = await replaced;
  assert.equal(lease.resource, made[1], "the broken one was replaced by a new resource");
  assert.equal(made[0].closed, true);
  assert.equal(pool.status().validationFailures, 1);
  lease.release();
  await pool.close();
});

test("a resource past maxLifetime is replaced, whether idle or returned late", async () => {
  const clock = manualClock();
  const { pool, made } = counting({ maxLifetime: 100, now: clock.now });
  (await pool.acquire()).release();
  clock.advance(130);
  const second = await pool.acquire();
  assert.equal(second.resource, made[1], "the expired idle resource was not lent");
  assert.equal(made[0].closed, true);
  clock.advance(130);
  second.release(); // expired while borrowed: closed on return, not put back
  assert.equal(made[1].closed, true);
  assert.equal(pool.size, 0);
  await pool.close();
});

test("idle resources are closed after idleTimeout, down to min", async () => {
  const clock = manualClock();
  const { pool, made } = counting({ idleTimeout: 60, min: 1, max: 3, now: clock.now });
  const leases = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
  for (const l of leases) l.release();
  assert.equal(pool.size, 3);
  clock.advance(200);
  // The housekeeping timer (real, every 30 ms here) sees them idle past idleTimeout on its next run.
  await until(() => pool.size <= 1, "idle resources closed");
  assert.equal(pool.size, 1, "kept min");
  assert.equal(made.filter((d) => d.closed).length, 2);
  await pool.close();
});

test("keepalive pings idle resources and replaces one whose ping fails", async () => {
  let pings = 0;
  let fail = false;
  const clock = manualClock();
  const { pool, made } = counting({
    now: clock.now,
    keepaliveInterval: 40,
    ping: async () => {
      pings++;
      if (fail) throw new Error("server closed the connection");
    },
  });
  (await pool.acquire()).release();
  clock.advance(50);
  await until(() => pings >= 1, "idle resource pinged");
  fail = true;
  clock.advance(50);
  await until(() => made[0].closed, "the resource whose ping failed closed");
  assert.ok(pool.status().validationFailures >= 1);
  await pool.close();
});

test("when create keeps failing, attempts back off (no busy loop) and the waiter gets DB_UNAVAILABLE in time", async () => {
  let attempts = 0;
  const { log, lines } = capturingLogger();
  const pool = new Pool<Dummy>({
    create: async () => {
      attempts++;
      throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    },
    destroy: () => {},
    acquireTimeout: 1000,
    createRetryDelay: 50,
    createRetryMaxDelay: 400,
    log,
  });
  const t0 = performance.now();
  const err = (await pool.acquire().catch((e: unknown) => e)) as Error & { code?: string; retryAfter?: number };
  const waited = performance.now() - t0;
  assert.equal(err.code, "DB_UNAVAILABLE");
  assert.ok(err.retryAfter && err.retryAfter > 0);
  assert.match(err.message, /ECONNREFUSED/);
  assert.ok(waited >= 950 && waited < 2500, `rejected after ${waited} ms`);
  // 50, 100, 200, 400 ms (±20 %) fit in 1 s: about 5 attempts. A busy loop would make thousands.
  assert.ok(attempts >= 3 && attempts <= 8, `${attempts} create attempts in 1 s`);
  const logged = lines.filter((l) => l.event === "pool.create_failed").length;
  assert.ok(logged <= attempts);
  // Each attempt fails at once, so none is in flight now; one retry may still be scheduled. Once its
  // backoff has run out it has fired, found nobody waiting, and opened nothing.
  const attemptsAtTimeout = attempts;
  await until(() => !pool.backingOff, "the scheduled retry fires");
  assert.equal(attempts, attemptsAtTimeout, "with nobody waiting and min 0, the pool stops retrying");
  assert.equal(pool.backingOff, false, "and schedules no further retry");
  await pool.close();
});

test("the pool recovers once create starts succeeding again", async () => {
  let attempts = 0;
  const pool = new Pool<number>({
    create: async () => {
      if (++attempts <= 3) throw new Error("database starting up");
      return attempts;
    },
    destroy: () => {},
    acquireTimeout: 3000,
    createRetryDelay: 20,
  });
  const lease = await pool.acquire();
  assert.equal(lease.resource, 4);
  assert.equal(pool.status().createErrors, 3);
  lease.release();
  await pool.close();
});

test("a database back just after a failed retry is noticed within 1.2 s (retries capped at 1 s by default) and logged once as pool.recovered", async () => {
  const { log, lines } = capturingLogger();
  const started = performance.now();
  let down = true;
  let upAt = 0;
  let openedAt = 0;
  const pool = new Pool<number>({
    create: async () => {
      const now = performance.now();
      if (down) {
        // The worst moment for it: the database returns right after an attempt failed, 4 s into the
        // outage (the backoff, 50, 100, … ms, is at its cap by then).
        if (now - started >= 4000) {
          down = false;
          upAt = now;
        }
        throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
      }
      openedAt = now;
      return 1;
    },
    destroy: () => {},
    min: 1, // keeps the pool retrying with nobody waiting
    log,
  });
  await until(() => openedAt > 0, "the pool opens a connection after the database came back", 10_000).catch(() => undefined);
  const noticedMs = openedAt - upAt;
  const recovered = lines.filter((l) => l.event === "pool.recovered");
  await pool.close();
  assert.ok(openedAt > 0, "the pool opened a connection after the database came back");
  // 1 s cap + 20 % jitter, plus timer slack on a busy machine (the former 2 s cap gave 1.6–2.4 s).
  assert.ok(noticedMs <= 1500, `noticed ${Math.round(noticedMs)} ms after the return (at most 1.2 s + slack)`);
  assert.equal(recovered.length, 1, "one pool.recovered line");
  assert.ok(Number(recovered[0]?.failures) >= 5, `failures in the run: ${String(recovered[0]?.failures)}`);
  assert.ok(Number(recovered[0]?.failingMs) >= 4000, `failingMs ${String(recovered[0]?.failingMs)}`);
});

test("min resources are opened in the background", async () => {
  const { pool } = counting({ min: 2 });
  await until(() => pool.size === 2, "min resources opened");
  assert.equal(pool.idle, 2);
  await pool.close();
});

test("a listener that throws does not break the pool", async () => {
  const { log, lines } = capturingLogger();
  const { pool } = counting({ log });
  pool.on("create", () => {
    throw new Error("listener bug");
  });
  (await pool.acquire()).release();
  assert.ok(lines.some((l) => l.event === "pool.listener_failed"));
  await pool.close();
});
