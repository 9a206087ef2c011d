import assert from "node:assert/strict";
import diagnostics from "node:diagnostics_channel";
import { test } from "node:test";
import { Deadline, runWithContext } from "../../context/index.js";
import { isHoldfastError } from "../../errors/index.js";
import { Pool, type PoolOptions } from "./index.js";

interface Dummy {
  n: number;
}

function dummyPool(o: Partial<PoolOptions<Dummy>> = {}): Pool<Dummy> {
  let n = 0;
  return new Pool<Dummy>({ create: async () => ({ n: ++n }), destroy: () => {}, ...o });
}

function ctx(ms: number) {
  return { requestId: "t", deadline: Deadline.after(ms), signal: new AbortController().signal };
}

async function rejection(p: Promise<unknown>): Promise<Error & { code?: string; retryAfter?: number }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string };
  }
  assert.fail("expected a rejection");
}

test("acquire fails with POOL_TIMEOUT after acquireTimeout, with the evidence in the message", async () => {
  const pool = dummyPool({ max: 1, acquireTimeout: 100 });
  const held = await pool.acquire();
  const t0 = performance.now();
  const err = await rejection(pool.acquire());
  const waited = performance.now() - t0;
  assert.equal(err.code, "POOL_TIMEOUT");
  assert.ok(isHoldfastError(err));
  assert.equal(err.retryAfter, 1);
  assert.ok(waited >= 95 && waited < 1000, `waited ${waited} ms`);
  assert.match(err.message, /acquireTimeout \(100 ms\)/);
  assert.match(err.message, /1 of max 1 connections were busy/);
  assert.equal(pool.status().timeouts, 1);
  assert.equal(pool.waiting, 0);
  held.release();
  await pool.close();
});

test("a request deadline shorter than acquireTimeout cuts the wait (POOL_TIMEOUT naming the deadline)", async () => {
  const pool = dummyPool({ max: 1, acquireTimeout: 5000 });
  const held = await pool.acquire();
  const t0 = performance.now();
  const err = await rejection(runWithContext(ctx(80), () => pool.acquire()));
  const waited = performance.now() - t0;
  assert.equal(err.code, "POOL_TIMEOUT");
  assert.ok(waited >= 70 && waited < 1000, `waited ${waited} ms, deadline was 80 ms`);
  assert.match(err.message, /request deadline cut the wait/);
  held.release();
  await pool.close();
});

test("an already expired deadline fails at once with DEADLINE_EXCEEDED and queues nothing", async () => {
  const pool = dummyPool({ max: 1 });
  // A deadline that passed 5 ms ago.
  const c = { requestId: "late", deadline: new Deadline(performance.now() - 5), signal: new AbortController().signal };
  const err = await rejection(runWithContext(c, () => pool.acquire()));
  assert.equal(err.code, "DEADLINE_EXCEEDED");
  assert.equal(pool.waiting, 0);
  assert.equal(pool.size, 0, "no connection was opened for a request that was already late");
  await pool.close();
});

test("waiters are served in arrival order", async () => {
  const pool = dummyPool({ max: 1 });
  const first = await pool.acquire();
  const order: number[] = [];
  const waits = [1, 2, 3, 4].map((i) =>
    pool.acquire().then((lease) => {
      order.push(i);
      setImmediate(() => lease.release());
    }),
  );
  first.release();
  await Promise.all(waits);
  assert.deepEqual(order, [1, 2, 3, 4]);
  await pool.close();
});

test("a full wait queue fails fast with POOL_QUEUE_FULL", async () => {
  const pool = dummyPool({ max: 1, maxWaiting: 2, acquireTimeout: 1000 });
  const held = await pool.acquire();
  const queued = [pool.acquire(), pool.acquire()];
  const t0 = performance.now();
  const err = await rejection(pool.acquire());
  assert.equal(err.code, "POOL_QUEUE_FULL");
  assert.ok(performance.now() - t0 < 200, "failed without waiting (no timer involved)");
  assert.match(err.message, /db\.pool\.maxWaiting is 2/);
  assert.equal(pool.status().queueFull, 1);
  held.release();
  for (const q of queued) (await q).release();
  await pool.close();
});

test("releasing a lease twice throws instead of lending one connection to two callers", async () => {
  const pool = dummyPool();
  const lease = await pool.acquire();
  lease.release();
  assert.throws(() => lease.release(), /released twice/);
  await pool.close();
});

test("an idle resource is reused without opening another; use() releases even when fn throws", async () => {
  const pool = dummyPool({ max: 5 });
  const a = await pool.acquire();
  a.release();
  const b = await pool.acquire();
  assert.equal(b.resource, a.resource);
  b.release();
  await assert.rejects(
    pool.use(async () => {
      throw new Error("boom");
    }),
    /boom/,
  );
  assert.equal(pool.busy, 0);
  assert.equal(pool.status().creates, 1);
  await pool.close();
});

test("destroy(err) replaces a broken resource and counts an error", async () => {
  const pool = dummyPool({ max: 1 });
  const a = await pool.acquire();
  a.destroy(new Error("socket closed"));
  const b = await pool.acquire();
  assert.notEqual(b.resource, a.resource);
  assert.equal(pool.status().errors, 1);
  assert.equal(pool.status().destroys, 1);
  b.release();
  await pool.close();
});

test("holdfast:pool:acquire is published to diagnostics_channel subscribers", async () => {
  const pool = dummyPool({ name: "diag" });
  const seen: unknown[] = [];
  const onMessage = (m: unknown) => seen.push(m);
  diagnostics.subscribe("holdfast:pool:acquire", onMessage);
  try {
    (await pool.acquire()).release();
  } finally {
    diagnostics.unsubscribe("holdfast:pool:acquire", onMessage);
  }
  assert.equal(seen.length, 1);
  assert.equal((seen[0] as { pool: string }).pool, "diag");
  await pool.close();
});

test("close() rejects waiters with POOL_CLOSED and later acquires too", async () => {
  const pool = dummyPool({ max: 1 });
  const held = await pool.acquire();
  const waiting = pool.acquire();
  const closing = pool.close({ forceAfterMs: 1000 });
  assert.equal((await rejection(waiting)).code, "POOL_CLOSED");
  assert.equal((await rejection(pool.acquire())).code, "POOL_CLOSED");
  held.release();
  await closing;
  assert.equal(pool.size, 0);
});

test("status() reports size, busy, waiting, utilization and wait percentiles", async () => {
  // The pool's clock is moved by hand, so the third caller's wait is exactly 30 ms.
  let clock = 1_000;
  const pool = dummyPool({ max: 2, now: () => clock });
  const a = await pool.acquire();
  const b = await pool.acquire();
  const c = pool.acquire();
  clock += 30;
  let s = pool.status();
  assert.equal(s.size, 2);
  assert.equal(s.busy, 2);
  assert.equal(s.waiting, 1);
  assert.equal(s.utilization, 1);
  a.release();
  (await c).release();
  b.release();
  s = pool.status();
  assert.equal(s.idle, 2);
  assert.equal(s.acquireWaitMs.count, 3);
  assert.equal(s.acquireWaitMs.max, 30, "the longest wait, by the pool's clock");
  assert.equal(s.usageMs.count, 3);
  await pool.close();
});

test("unknown options are rejected by name", () => {
  assert.throws(
    () => new Pool({ create: async () => 1, destroy: () => {}, acquireTimeoutMillis: 5 } as unknown as PoolOptions<number>),
    (err: Error & { code?: string }) => err.code === "CONFIG_INVALID" && /"acquireTimeoutMillis"/.test(err.message),
  );
});

test("a waiter whose request is aborted (client went away) leaves the queue at once", async () => {
  const pool = dummyPool({ max: 1, acquireTimeout: 5000 });
  const held = await pool.acquire();
  const ac = new AbortController();
  const c = { requestId: "gone", deadline: Deadline.after(10_000), signal: ac.signal };
  const waiting = runWithContext(c, () => pool.acquire());
  assert.equal(pool.waiting, 1, "queued at once: the pool is at max");
  const t0 = performance.now();
  ac.abort(new Error("client closed the connection"));
  const err = await rejection(waiting);
  assert.ok(performance.now() - t0 < 200);
  assert.equal(err.code, "DEADLINE_EXCEEDED");
  assert.match(err.message, /client closed the connection/);
  assert.equal(pool.waiting, 0);
  assert.equal(pool.status().timeouts, 0, "an abandoned request is not a pool timeout");
  held.release();
  assert.equal(pool.idle, 1, "the released resource went back to idle, not to the gone caller");
  await pool.close();
});
