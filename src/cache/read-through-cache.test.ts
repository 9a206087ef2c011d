/** The read-through cache on the memory backend: single-flight, stale-while-revalidate, TTL, errors, deadlines. */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { test } from "node:test";
import pino from "pino";
import { Deadline, runWithContext } from "../context/index.js";
import { createCache } from "./index.js";
import { slowLoader } from "./slow-loader.test-support.js";

function inRequest<T>(deadlineMs: number, fn: () => Promise<T>): Promise<T> {
  return runWithContext({ requestId: "t", deadline: Deadline.after(deadlineMs), signal: new AbortController().signal }, fn);
}

test("single-flight: 100 concurrent misses of one key run the loader once and all get its value", async () => {
  const cache = createCache();
  const loader = slowLoader((n) => ({ n }), 30);
  const results = await Promise.all(Array.from({ length: 100 }, () => cache.wrap("k", loader.fn)));
  assert.equal(loader.runs, 1);
  assert.ok(results.every((r) => r.n === 1));
  assert.notEqual(results[0], results[1], "each caller gets its own copy");
  const s = cache.status();
  assert.equal(s.loaderRuns, 1);
  assert.equal(s.misses, 100);
  assert.equal(s.joins, 99);
  assert.equal(s.size, 1);
  assert.deepEqual(await cache.wrap("k", loader.fn), { n: 1 });
  assert.equal(cache.status().hits, 1);
});

test("different keys load independently", async () => {
  const cache = createCache();
  const loader = slowLoader((n) => n, 30);
  await Promise.all([cache.wrap("a", loader.fn), cache.wrap("b", loader.fn), cache.wrap("a", loader.fn)]);
  assert.equal(loader.runs, 2);
});

test("TTL: a value is served until its ttl passes, then loaded again", async () => {
  const cache = createCache();
  const loader = slowLoader((n) => n, 1);
  assert.equal(await cache.wrap("k", loader.fn, { ttlMs: 80 }), 1);
  assert.equal(await cache.wrap("k", loader.fn, { ttlMs: 80 }), 1);
  assert.equal(await cache.get("k"), 1);
  await sleep(120);
  assert.equal(await cache.get("k"), undefined);
  assert.equal(await cache.wrap("k", loader.fn, { ttlMs: 80 }), 2);
  assert.equal(loader.runs, 2);
});

test("stale-while-revalidate: a stale value is returned at once and refreshed once in the background", async () => {
  const cache = createCache({ staleTtlMs: 5_000 });
  const loader = slowLoader((n) => `v${n}`, 400);
  assert.equal(await cache.wrap("k", loader.fn, { ttlMs: 50 }), "v1");
  await sleep(70);
  // Stale now: 20 callers, some concurrent, some in a row, all answered at once with v1.
  const t0 = performance.now();
  const first = await Promise.all(Array.from({ length: 10 }, () => cache.wrap("k", loader.fn, { ttlMs: 50 })));
  for (let i = 0; i < 10; i++) assert.equal(await cache.wrap("k", loader.fn, { ttlMs: 50 }), "v1");
  assert.ok(performance.now() - t0 < 250, `stale answers must not wait for the 400 ms loader (took ${performance.now() - t0} ms)`);
  assert.ok(first.every((v) => v === "v1"));
  assert.equal(cache.status().refreshes, 1);
  for (let i = 0; i < 400 && (await cache.get("k")) !== "v2"; i++) await sleep(5);
  assert.equal(await cache.get("k"), "v2", "the refresh stored the new value");
  assert.equal(loader.runs, 2, "exactly one background refresh");
  assert.equal(cache.status().staleServed, 20);
});

test("past the stale window a value is gone and the caller waits for the loader", async () => {
  const cache = createCache();
  const loader = slowLoader((n) => n, 1);
  await cache.wrap("k", loader.fn, { ttlMs: 30, staleTtlMs: 30 });
  await sleep(80);
  assert.equal(await cache.wrap("k", loader.fn, { ttlMs: 30, staleTtlMs: 30 }), 2);
  assert.equal(cache.status().staleServed, 0);
});

test("a failed background refresh keeps serving the stale value and is counted", async () => {
  // Each failed refresh is logged right after it is counted: that line is the signal to look again.
  let onRefreshFailed = () => {};
  const log = pino({ level: "warn" }, { write: (line: string) => line.includes('"cache.refresh.failed"') && onRefreshFailed() });
  const cache = createCache({ log });
  let fail = false;
  const loader = async () => {
    if (fail) throw new Error("db down");
    return "ok";
  };
  await cache.wrap("k", loader, { ttlMs: 20, staleTtlMs: 5_000 });
  await sleep(40);
  fail = true;
  assert.equal(await cache.wrap("k", loader, { ttlMs: 20, staleTtlMs: 5_000 }), "ok");
  await sleep(20);
  assert.equal(await cache.wrap("k", loader, { ttlMs: 20, staleTtlMs: 5_000 }), "ok");
  // The refreshes fail in the background; a loader error is counted a few ticks before its refresh
  // error, so wait (2 s at most) until every loader error so far is counted as a refresh error too.
  const settled = () => cache.status().refreshErrors >= 1 && cache.status().loaderErrors === cache.status().refreshErrors;
  if (!settled()) {
    await new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`refreshes not settled within 2 s: ${JSON.stringify(cache.status())}`)), 2_000);
      onRefreshFailed = () => {
        if (!settled()) return;
        clearTimeout(deadline);
        resolve();
      };
    });
  }
  const s = cache.status();
  assert.ok(s.refreshErrors >= 1, `refresh errors ${s.refreshErrors}`);
  assert.equal(s.loaderErrors, s.refreshErrors);
});

test("a loader error reaches every joined caller and is not cached", async () => {
  const cache = createCache();
  let runs = 0;
  const failing = async () => {
    runs++;
    await sleep(20);
    throw new Error("boom");
  };
  const settled = await Promise.allSettled(Array.from({ length: 5 }, () => cache.wrap("k", failing)));
  assert.ok(settled.every((r) => r.status === "rejected" && (r.reason as Error).message === "boom"));
  assert.equal(runs, 1);
  assert.equal(await cache.wrap("k", async () => "fine"), "fine");
  assert.equal(cache.status().loaderErrors, 1);
});

test("a loader that returns undefined fails with a message that says to return null", async () => {
  const cache = createCache();
  await assert.rejects(
    cache.wrap("user:7", async () => undefined),
    /user:7.*Return null/s,
  );
  assert.equal(await cache.wrap("user:7", async () => null), null);
  assert.equal(await cache.wrap("user:7", async () => "not called"), null, "null is a cached value");
});

test("a caller waiting on another's load gives up at its own deadline with DEADLINE_EXCEEDED", async () => {
  const cache = createCache();
  const loader = slowLoader(() => "late", 1000);
  const leader = cache.wrap("k", loader.fn);
  const t0 = performance.now();
  await assert.rejects(
    inRequest(50, () => cache.wrap("k", loader.fn)),
    (err: Error & { code?: string }) => err.code === "DEADLINE_EXCEEDED",
  );
  assert.ok(performance.now() - t0 < 600, "gave up near its 50 ms deadline, not at the 1 s load");
  assert.equal(await leader, "late");
});

test("an expired request does not start a load", async () => {
  const cache = createCache();
  let runs = 0;
  const rejected = inRequest(1, async () => {
    await sleep(10);
    return cache.wrap("k", async () => ++runs);
  });
  await assert.rejects(rejected, (err: Error & { code?: string }) => err.code === "DEADLINE_EXCEEDED");
  assert.equal(runs, 0);
});

test("get/set/delete, namespaced keys, and bad TTLs rejected before the loader runs", async () => {
  const a = createCache({ namespace: "a" });
  assert.equal(await a.set("x", { v: 1 }, { ttlMs: 1000 }), true);
  assert.deepEqual(await a.get("x"), { v: 1 });
  assert.equal(await a.delete("x"), true);
  assert.equal(await a.get("x"), undefined);
  await assert.rejects(
    a.set("f", () => 1),
    /is a function/,
  );
  let ran = false;
  await assert.rejects(
    a.wrap(
      "y",
      async () => {
        ran = true;
        return 1;
      },
      { ttlMs: -5 },
    ),
    /ttlMs must be a positive/,
  );
  assert.equal(ran, false);
  await assert.rejects(a.get("~lock:x"), /keeps for its load locks/);
});

test("the memory backend holds at most maxEntries", async () => {
  const cache = createCache({ maxEntries: 50 });
  for (let i = 0; i < 500; i++) await cache.wrap(`k${i}`, async () => i);
  assert.equal(cache.status().size, 50);
  assert.equal(await cache.get("k0"), undefined);
  assert.equal(await cache.get("k499"), 499);
});

test("a synchronous loader works, and its synchronous throw becomes a rejection", async () => {
  const cache = createCache();
  assert.equal(await cache.wrap("sync", () => 7), 7);
  await assert.rejects(
    cache.wrap("sync-throw", () => {
      throw new Error("sync boom");
    }),
    /sync boom/,
  );
  assert.equal(cache.status().loaderErrors, 1);
});
