/**
 * A Redis that is down, silent, or stalls mid-connection must never hang a request: `wrap`
 * answers from the loader within the deadline, `get` returns undefined, one `cache.unavailable`
 * line is logged per interval, and the cache comes back by itself. Uses real sockets: a closed
 * port, a server that accepts and never answers, and a TCP relay to the real Redis that can be
 * frozen (it holds bytes, as a stalled network does, and delivers them when thawed).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer, connect, type Server, type Socket } from "node:net";
import { after, afterEach, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import pino from "pino";
import { type Cache, createCache } from "../src/cache/index.js";
import { Deadline, runWithContext } from "../src/context/index.js";
import type { Logger } from "../src/telemetry/index.js";
import { REDIS_URL, redisUnreachable, redisUnreachableMessage } from "./support/redis.js";
import { missingServiceTest } from "./support/require-service.js";
import { closedPort } from "./support/ports.js";
import { eventually } from "./support/wait.js";

const NS = `hf-test-cachefail-${process.pid}-${randomBytes(3).toString("hex")}`;
const closers: Array<() => Promise<unknown> | unknown> = [];

// Checked before any test is registered: the runner must see every test and hook up front.
const why = await redisUnreachable();

/** Runs the clean-ups registered so far, newest first (called after each test). */
async function cleanUp(): Promise<void> {
  for (const c of closers.splice(0).reverse()) await c();
}
afterEach(cleanUp);
after(cleanUp);

/** Resolves once the load lock of `key` is gone from Redis (wrap releases it after answering). */
async function lockReleased(key: string): Promise<void> {
  const admin = new Redis(REDIS_URL);
  try {
    await eventually(async () => (await admin.exists(`${NS}:~lock:${key}`)) === 0, 5_000, `the load lock of ${key} released in Redis`);
  } finally {
    admin.disconnect();
  }
}

function capturingLogger(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: "debug" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { log, lines };
}

function inRequest<T>(deadlineMs: number, fn: () => Promise<T>): Promise<T> {
  return runWithContext({ requestId: "t", deadline: Deadline.after(deadlineMs), signal: new AbortController().signal }, fn);
}

function track(c: Cache): Cache {
  closers.push(() => c.close());
  return c;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  closers.push(() => new Promise((r) => server.close(r)));
  const addr = server.address();
  if (addr === null || typeof addr === "string") throw new Error("no port");
  return addr.port;
}

test("Redis down (connection refused): wrap answers from the loader at once, get misses, one warning per interval", async () => {
  const port = await closedPort();
  const { log, lines } = capturingLogger();
  const cache = track(createCache({ url: `redis://127.0.0.1:${port}/0`, namespace: NS, log, unavailableLogIntervalMs: 60_000 }));
  assert.equal(await cache.ready(200), false);
  const t0 = performance.now();
  for (let i = 0; i < 20; i++) {
    assert.equal(await inRequest(500, () => cache.wrap("k", async () => `loaded-${i}`)), `loaded-${i}`);
  }
  const concurrent = await Promise.all(Array.from({ length: 20 }, () => inRequest(500, () => cache.wrap("c", async () => "x"))));
  assert.ok(concurrent.every((v) => v === "x"));
  assert.equal(await cache.get("k"), undefined);
  assert.equal(await cache.set("k", 1), false);
  assert.equal(await cache.delete("k"), false);
  const took = performance.now() - t0;
  assert.ok(took < 1000, `43 calls against a down Redis took ${Math.round(took)} ms (each one waiting its deadline would take 20 s)`);
  const s = cache.status();
  assert.equal(s.available, false);
  assert.equal(s.degraded, 21, "20 sequential wraps + 1 leader for the 20 concurrent ones");
  assert.equal(s.joins, 19, "single-flight still holds in the process while Redis is down");
  assert.ok(s.backendErrors >= 24);
  const warnings = lines.filter((l) => l.event === "cache.unavailable");
  assert.equal(warnings.length, 1, "one cache.unavailable line per interval, not one per call");
  assert.match(String(warnings[0]?.msg), /answered by their loaders/);
  assert.equal(warnings[0]?.url, `redis://127.0.0.1:${port}/0`);
});

test("Redis that accepts connections and never answers: wrap is not held up", async () => {
  const held: Socket[] = [];
  const port = await listen(
    createServer((s) => {
      held.push(s);
      s.on("error", () => {});
    }),
  );
  closers.push(() => {
    for (const s of held) s.destroy();
  });
  const cache = track(createCache({ url: `redis://127.0.0.1:${port}/0`, namespace: NS, commandTimeoutMs: 1000 }));
  await sleep(50); // connected at TCP level, waiting forever for the ready check
  const t0 = performance.now();
  assert.equal(await inRequest(2000, () => cache.wrap("k", async () => "from-loader")), "from-loader");
  assert.equal(await cache.get("k"), undefined);
  assert.ok(performance.now() - t0 < 500, `took ${Math.round(performance.now() - t0)} ms (commandTimeoutMs is 1000)`);
  assert.equal(cache.status().available, false);
});

/**
 * A TCP relay to the real Redis; `freeze()` holds bytes in both directions, `thaw()` delivers
 * them; `down()` cuts every connection and refuses new ones (a Redis restart), `up()` ends that.
 */
async function relay(target: URL) {
  let frozen = false;
  let isDown = false;
  const held: Array<() => void> = [];
  const sockets: Socket[] = [];
  const port = await listen(
    createServer((client) => {
      if (isDown) {
        client.destroy();
        return;
      }
      const upstream = connect(Number(target.port || 6379), target.hostname);
      sockets.push(client, upstream);
      const pass = (from: Socket, to: Socket) =>
        from.on("data", (d) => {
          if (frozen) held.push(() => to.write(d));
          else to.write(d);
        });
      pass(client, upstream);
      pass(upstream, client);
      for (const s of [client, upstream]) {
        s.on("error", () => {});
        s.on("close", () => {
          client.destroy();
          upstream.destroy();
        });
      }
    }),
  );
  closers.push(() => {
    for (const s of sockets) s.destroy();
  });
  return {
    url: `redis://127.0.0.1:${port}${target.pathname}`,
    freeze: () => {
      frozen = true;
    },
    thaw: () => {
      frozen = false;
      for (const f of held.splice(0)) f();
    },
    down: () => {
      isDown = true;
      for (const s of sockets.splice(0)) s.destroy();
    },
    up: () => {
      isDown = false;
    },
  };
}

if (why !== undefined) {
  missingServiceTest("stalled Redis", redisUnreachableMessage(why));
} else {
  after(async () => {
    const admin = new Redis(REDIS_URL);
    const keys = await admin.keys(`${NS}:*`);
    if (keys.length) await admin.del(...keys);
    admin.disconnect();
  });

  test("Redis stalls mid-connection: wrap is bounded by the request deadline, then by commandTimeoutMs, then skips Redis; it recovers", async () => {
    const r = await relay(new URL(REDIS_URL));
    const { log, lines } = capturingLogger();
    const cache = track(createCache({ url: r.url, namespace: NS, commandTimeoutMs: 800, log }));
    assert.equal(await cache.ready(3000), true);
    assert.equal(await cache.wrap("k", async () => "cached", { ttlMs: 60_000 }), "cached");
    await lockReleased("k"); // before the stall, or the release would be held with everything else
    r.freeze();

    // 1. The request has 100 ms left, less than the command timeout: the read gives up at the deadline.
    let t0 = performance.now();
    assert.equal(await inRequest(100, () => cache.wrap("k", async () => "loader")), "loader");
    let took = performance.now() - t0;
    assert.ok(took >= 90 && took < 500, `bounded by the 100 ms deadline, took ${Math.round(took)} ms`);
    assert.equal(cache.status().backendErrors, 0, "running out of request time is not the backend's fault");

    // 2. No deadline: the read gives up at commandTimeoutMs, counted and logged.
    t0 = performance.now();
    assert.equal(await cache.wrap("k", async () => "loader"), "loader");
    took = performance.now() - t0;
    assert.ok(took >= 780 && took < 1300, `bounded by commandTimeoutMs 800, took ${Math.round(took)} ms`);
    assert.equal(cache.status().backendErrors, 1);
    assert.equal(lines.filter((l) => l.event === "cache.unavailable" && l.reason === "timeout").length, 1);

    // 3. Right after a timeout Redis is skipped for a moment: no request pays the timeout again.
    t0 = performance.now();
    assert.equal(await cache.wrap("k", async () => "loader"), "loader");
    assert.ok(performance.now() - t0 < 150, `skipped at once, took ${Math.round(performance.now() - t0)} ms`);
    assert.equal(cache.status().available, false);

    // 4. The network heals: after the cool-down the cached value is served again.
    r.thaw();
    await eventually(() => cache.status().available, 5_000, "Redis in use again after the cool-down");
    assert.equal(await cache.wrap("k", async () => "loader"), "cached");
    assert.equal(lines.filter((l) => l.event === "cache.unavailable").length, 1);
  });

  test("Redis restarts: calls answer from the loader while it is gone, the cache reconnects by itself and says so", async () => {
    const r = await relay(new URL(REDIS_URL));
    const { log, lines } = capturingLogger();
    const cache = track(createCache({ url: r.url, namespace: NS, log }));
    assert.equal(await cache.ready(3000), true);
    assert.equal(await cache.wrap("restart", async () => "cached", { ttlMs: 60_000 }), "cached");
    await lockReleased("restart");
    r.down();
    await eventually(() => !cache.status().available, 5_000, "the cache seeing its connection cut");
    const t0 = performance.now();
    for (let i = 0; i < 10; i++) assert.equal(await inRequest(1000, () => cache.wrap("restart", async () => "loader")), "loader");
    assert.ok(performance.now() - t0 < 500, `10 calls while Redis is gone took ${Math.round(performance.now() - t0)} ms`);
    assert.equal(cache.status().available, false);
    assert.equal(lines.filter((l) => l.event === "cache.unavailable").length, 1);
    r.up();
    assert.equal(await cache.ready(5000), true, "reconnected without help");
    assert.equal(await cache.wrap("restart", async () => "loader"), "cached", "the value in Redis is served again");
    assert.equal(lines.filter((l) => l.event === "cache.available").length, 1);
  });

  test("close() on a stalled Redis returns promptly", async () => {
    const r = await relay(new URL(REDIS_URL));
    const cache = track(createCache({ url: r.url, namespace: NS, commandTimeoutMs: 200 }));
    assert.equal(await cache.ready(3000), true);
    r.freeze();
    const t0 = performance.now();
    await cache.close();
    assert.ok(performance.now() - t0 < 500);
    assert.equal(await cache.wrap("k", async () => "after-close"), "after-close");
  });
}
