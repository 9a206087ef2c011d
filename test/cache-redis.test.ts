/**
 * The cache on a real Redis (127.0.0.1:6379): single-flight within one instance and across
 * two instances, stale-while-revalidate, TTL, get/set/delete. Each run uses its own namespace
 * and deletes its keys afterwards. Skips loudly when Redis is unreachable outside CI; fails in CI.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { type Cache, createCache } from "../src/cache/index.js";
import { REDIS_URL, redisUnreachable, redisUnreachableMessage, watchRedisCommands } from "./support/redis.js";
import { missingServiceTest } from "./support/require-service.js";
import { eventually } from "./support/wait.js";
import { slowLoader } from "../src/cache/slow-loader.test-support.js";

const NS = process.env.HF_CACHE_CHILD_NS ?? `hf-test-cache-${process.pid}-${randomBytes(3).toString("hex")}`;

// Child mode (spawned by the cross-process test below): one holdfast worker's worth of cache
// callers. Says "ready", waits for "go" on stdin so both processes start together, then runs
// 50 concurrent wraps of one key whose loader counts its runs in Redis (visible to both).
if (process.env.HF_CACHE_CHILD_NS) {
  const cache = createCache({ url: REDIS_URL, namespace: NS });
  const counter = new Redis(REDIS_URL);
  if (!(await cache.ready(5000))) process.exit(3);
  process.stdout.write("ready\n");
  await new Promise((r) => process.stdin.once("data", r));
  const results = await Promise.all(
    Array.from({ length: 50 }, () =>
      cache.wrap("xproc", async () => {
        await counter.incr(`${NS}:loader-runs`);
        await sleep(200);
        return `loaded-by-${process.pid}`;
      }),
    ),
  );
  process.stdout.write(`${JSON.stringify({ results: [...new Set(results)], status: cache.status() })}\n`);
  await cache.close();
  counter.disconnect();
  process.exit(0);
}

const why = await redisUnreachable();
const admin = why === undefined ? new Redis(REDIS_URL) : undefined;
const opened: Cache[] = [];

async function open(extra: Parameters<typeof createCache>[0] = {}): Promise<Cache> {
  const c = createCache({ url: REDIS_URL, namespace: NS, ...extra });
  opened.push(c);
  assert.equal(await c.ready(3000), true, "Redis became ready");
  return c;
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
  missingServiceTest("cache on Redis", redisUnreachableMessage(why));
} else {
  test("Redis single-flight: 100 concurrent misses in one instance run the loader once", async () => {
    const cache = await open();
    const loader = slowLoader((n) => ({ n }), 100);
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
    assert.equal(loader.runs, 1, `one load for the whole cluster; status a=${JSON.stringify(a.status())} b=${JSON.stringify(b.status())}`);
    assert.ok(results.every((r) => r === "v1"));
    const joins = a.status().joins + b.status().joins;
    assert.equal(joins, 99, "every other call joined: locally or by waiting on the other instance's lock");
    assert.equal(a.status().lockWaitTimeouts + b.status().lockWaitTimeouts, 0);
  });

  test("Redis single-flight across two processes: 2 × 50 concurrent misses run the loader once", async () => {
    const self = new URL(import.meta.url).pathname;
    const children = [0, 1].map(() =>
      spawn(process.execPath, ["--import", "tsx", self], {
        env: { ...process.env, HF_CACHE_CHILD_NS: NS },
        stdio: ["pipe", "pipe", "inherit"],
      }),
    );
    const outputs = children.map((c) => {
      let out = "";
      c.stdout.on("data", (d) => (out += d));
      const ready = new Promise<void>((resolve, reject) => {
        const onData = () => {
          if (!out.includes("ready\n")) return;
          c.stdout.off("data", onData);
          resolve();
        };
        c.stdout.on("data", onData);
        c.once("exit", (code) => reject(new Error(`child exited with ${code} before it was ready`)));
      });
      const done = new Promise<string>((resolve) => c.once("exit", () => resolve(out)));
      return { ready, done };
    });
    const giveUp = new AbortController();
    try {
      await Promise.race([
        Promise.all(outputs.map((o) => o.ready)),
        sleep(20_000, undefined, { signal: giveUp.signal }).then(() => Promise.reject(new Error("children not ready in 20 s"))),
      ]);
      giveUp.abort();
      for (const c of children) c.stdin.write("go\n");
      const reports = (await Promise.all(outputs.map((o) => o.done))).map((out) => JSON.parse(out.split("\n").filter(Boolean).at(-1) as string));
      assert.equal(await admin!.get(`${NS}:loader-runs`), "1", "one loader run across both processes");
      const values = new Set(reports.flatMap((r) => r.results));
      assert.equal(values.size, 1, `every caller in both processes got the same value: ${[...values].join(", ")}`);
      assert.equal(reports[0].status.joins + reports[1].status.joins, 99);
    } finally {
      giveUp.abort();
      for (const c of children) if (c.exitCode === null) c.kill();
    }
  });

  test("Redis: a slow lock holder does not block the other instance past lockWaitMs", async () => {
    const a = await open();
    const b = await open({ lockWaitMs: 100 });
    const slow = slowLoader(() => "from-a", 1500);
    const fast = slowLoader(() => "from-b", 1);
    const pa = a.wrap("slow-holder", slow.fn);
    // The loader runs only under the key's lock: once it has started, a holds the lock.
    await eventually(() => slow.runs === 1, 5_000, "a holding the lock and loading");
    const t0 = performance.now();
    assert.equal(await b.wrap("slow-holder", fast.fn), "from-b");
    const took = performance.now() - t0;
    assert.ok(took < 1000, `b waited ${Math.round(took)} ms; lockWaitMs is 100, the holder takes 1500`);
    assert.equal(b.status().lockWaitTimeouts, 1);
    assert.equal(await pa, "from-a");
  });

  test("Redis: when the lock holder's loader fails, a waiting instance loads instead of waiting it out", async () => {
    const a = await open();
    const b = await open({ lockWaitMs: 3000 });
    // Conditions, not pauses: a's loader runs (so a holds the lock), b asks Redis for the lock and
    // is refused (seen on MONITOR: the second SET NX of the lock key), and only then a's loader fails.
    let lockAttempts = 0;
    const lockAttempt = new RegExp(`"set" "${NS}[^"]*~lock:holder-fails" .*"NX"`, "i");
    const monitor = await watchRedisCommands((line) => {
      if (lockAttempt.test(line)) lockAttempts++;
    });
    try {
      let aLoading = false;
      const pa = a
        .wrap("holder-fails", async () => {
          aLoading = true;
          await eventually(() => lockAttempts >= 2, 5_000, "b asking for the lock a holds");
          throw new Error("holder failed");
        })
        .catch((err: unknown) => err);
      await eventually(() => aLoading, 5_000, "a holding the lock and loading");
      const t0 = performance.now();
      assert.equal(await b.wrap("holder-fails", async () => "b-loaded"), "b-loaded");
      assert.ok(performance.now() - t0 < 1000);
      assert.match(String(await pa), /holder failed/);
    } finally {
      monitor.close();
    }
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
    const loader = slowLoader((n) => `v${n}`, 600);
    const opts = { ttlMs: 100, staleTtlMs: 10_000 };
    assert.equal(await a.wrap("swr", loader.fn, opts), "v1");
    await sleep(130);
    const t0 = performance.now();
    const stale = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).wrap("swr", loader.fn, opts)));
    assert.ok(performance.now() - t0 < 450, "stale answers do not wait for the 600 ms loader");
    assert.ok(stale.every((v) => v === "v1"));
    for (let i = 0; i < 300 && (await b.get("swr")) !== "v2"; i++) await sleep(10);
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
