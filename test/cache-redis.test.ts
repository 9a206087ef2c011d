/**
 * The cache on a real Redis (127.0.0.1:6379): single-flight within one instance and across
 * two instances, stale-while-revalidate, TTL, get/set/delete. Each run uses its own namespace
 * and deletes its keys afterwards. Skips loudly when Redis is unreachable outside CI; fails in CI.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { type Cache, createCache } from "../src/cache/index.js";

const REDIS_URL = process.env.HOLDFAST_TEST_REDIS_URL ?? "redis://127.0.0.1:6379/0";
const NS = `hf-test-cache-${process.pid}-${randomBytes(3).toString("hex")}`;

async function unreachable(): Promise<string | undefined> {
  const r = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 1500, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  r.on("error", () => {});
  try {
    await r.connect();
    await r.ping();
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    r.disconnect();
  }
}

const why = await unreachable();
const admin = why === undefined ? new Redis(REDIS_URL) : undefined;
const opened: Cache[] = [];

async function open(extra: Parameters<typeof createCache>[0] = {}): Promise<Cache> {
  const c = createCache({ url: REDIS_URL, namespace: NS, ...extra });
  opened.push(c);
  assert.equal(await c.ready(3000), true, "Redis became ready");
  return c;
}

function slowLoader<T>(value: (n: number) => T, ms = 100) {
  const l = {
    runs: 0,
    fn: async () => {
      l.runs++;
      const n = l.runs;
      await sleep(ms);
      return value(n);
    },
  };
  return l;
}

after(async () => {
  await Promise.all(opened.map((c) => c.close()));
  if (admin) {
    const keys = await admin.keys(`${NS}:*`);
    if (keys.length) await admin.del(...keys);
    admin.disconnect();
  }
});

if (why !== undefined) {
  const msg = `Redis unreachable at ${REDIS_URL} (${why}) — start it to run the Redis cache tests`;
  test("cache on Redis", (t) => {
    if (process.env.CI === "true") throw new Error(msg);
    console.error(`\n*** SKIPPED: ${msg} ***\n`);
    t.skip(msg);
  });
} else {
  test("Redis single-flight: 100 concurrent misses in one instance run the loader once", async () => {
    const cache = await open();
    const loader = slowLoader((n) => ({ n }));
    const results = await Promise.all(Array.from({ length: 100 }, () => cache.wrap("sf-one", loader.fn)));
    assert.equal(loader.runs, 1);
    assert.ok(results.every((r) => r.n === 1));
    const s = cache.status();
    assert.equal(s.backend, "redis");
    assert.equal(s.loaderRuns, 1);
    assert.equal(s.joins, 99);
    assert.equal(s.backendErrors, 0);
    assert.equal(s.size, undefined);
  });

  test("Redis single-flight across two instances: 2 × 50 concurrent misses run the loader once", async () => {
    // Two caches = two connections, as two holdfast instances would have; one loader counter between them.
    const a = await open();
    const b = await open();
    const loader = slowLoader((n) => `v${n}`, 150);
    const calls = Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? a : b).wrap("sf-two", loader.fn));
    const results = await Promise.all(calls);
    assert.equal(loader.runs, 1, "one load for the whole cluster");
    assert.ok(results.every((r) => r === "v1"));
    const joins = a.status().joins + b.status().joins;
    assert.equal(joins, 99, "every other call joined: locally or by waiting on the other instance's lock");
    assert.equal(a.status().lockWaitTimeouts + b.status().lockWaitTimeouts, 0);
  });

  test("Redis: a slow lock holder does not block the other instance past lockWaitMs", async () => {
    const a = await open();
    const b = await open({ lockWaitMs: 100 });
    const slow = slowLoader(() => "from-a", 600);
    const fast = slowLoader(() => "from-b", 1);
    const pa = a.wrap("slow-holder", slow.fn);
    await sleep(30); // a holds the lock now
    const t0 = performance.now();
    assert.equal(await b.wrap("slow-holder", fast.fn), "from-b");
    const took = performance.now() - t0;
    assert.ok(took < 400, `b waited ${Math.round(took)} ms; lockWaitMs is 100`);
    assert.equal(b.status().lockWaitTimeouts, 1);
    assert.equal(await pa, "from-a");
  });

  test("Redis: when the lock holder's loader fails, a waiting instance loads instead of waiting it out", async () => {
    const a = await open();
    const b = await open({ lockWaitMs: 3000 });
    const pa = a.wrap("holder-fails", async () => {
      await sleep(80);
      throw new Error("holder failed");
    }).catch((err: unknown) => err);
    await sleep(20);
    const t0 = performance.now();
    assert.equal(await b.wrap("holder-fails", async () => "b-loaded"), "b-loaded");
    assert.ok(performance.now() - t0 < 1000);
    assert.match(String(await pa), /holder failed/);
  });

  test("Redis TTL: a value expires after ttlMs and Redis drops the key after ttl + stale window", async () => {
    const cache = await open();
    const loader = slowLoader((n) => n, 1);
    assert.equal(await cache.wrap("ttl", loader.fn, { ttlMs: 150, staleTtlMs: 0 }), 1);
    assert.equal(await cache.wrap("ttl", loader.fn, { ttlMs: 150, staleTtlMs: 0 }), 1);
    const pttl = await admin!.pttl(`${NS}:ttl`);
    assert.ok(pttl > 0 && pttl <= 150, `Redis PTTL ${pttl}`);
    await sleep(200);
    assert.equal(await cache.get("ttl"), undefined);
    assert.equal(await cache.wrap("ttl", loader.fn, { ttlMs: 150 }), 2);
  });

  test("Redis stale-while-revalidate: stale served at once, one refresh across two instances", async () => {
    const a = await open();
    const b = await open();
    const loader = slowLoader((n) => `v${n}`, 150);
    const opts = { ttlMs: 100, staleTtlMs: 10_000 };
    assert.equal(await a.wrap("swr", loader.fn, opts), "v1");
    await sleep(130);
    const t0 = performance.now();
    const stale = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).wrap("swr", loader.fn, opts)));
    assert.ok(performance.now() - t0 < 120, "stale answers do not wait for the 150 ms loader");
    assert.ok(stale.every((v) => v === "v1"));
    for (let i = 0; i < 100 && (await b.get("swr")) !== "v2"; i++) await sleep(10);
    assert.equal(await b.get("swr"), "v2");
    assert.equal(loader.runs, 2, "one background refresh for both instances");
    assert.equal(a.status().refreshes + b.status().refreshes, 1);
  });

  test("Redis get/set/delete share values between instances and keys are namespaced", async () => {
    const a = await open();
    const b = await open();
    assert.equal(await a.set("shared", { hello: "world" }, { ttlMs: 5000 }), true);
    assert.deepEqual(await b.get("shared"), { hello: "world" });
    assert.ok((await admin!.get(`${NS}:shared`))?.includes('{"hello":"world"}'));
    assert.equal(await b.delete("shared"), true);
    assert.equal(await a.get("shared"), undefined);
    const other = await open({ namespace: `${NS}-other` });
    await a.set("ns", 1);
    assert.equal(await other.get("ns"), undefined);
    await other.close();
  });
}
