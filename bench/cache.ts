/**
 * npm run bench:cache — holdfast's read-through cache against the usual cache-aside code, in the same run.
 *
 * 1. "stampede": BURST concurrent requests for one cold key whose loader is a real PostgreSQL
 *    query (`select pg_sleep(0.02)`) through a 10-connection pg pool — the moment after a deploy
 *    or an expiry. Cache-aside with toad-cache (the LRU Fastify uses; get → miss → query → set)
 *    runs the query once per request; holdfast's single-flight runs it once. Reported: wall time
 *    until every request is answered, and queries run. Without PostgreSQL, a 20 ms timer behind a
 *    10-slot semaphore stands in (said in the output).
 * 2. "memory hit": sequential fresh hits per second: holdfast `wrap` (a JSON copy per hit) vs
 *    toad-cache LruMap (returns the shared object, no copy) vs Map + JSON.parse (same semantics as holdfast).
 * 3. "redis hit": sequential fresh hits per second on Redis: holdfast `wrap` (deadline-bounded
 *    command) vs a raw ioredis GET + JSON.parse.
 * Each measure runs ROUNDS times, interleaved, median reported. The last line is one JSON object.
 * toad-cache is not a direct dependency: it is installed with fastify (a devDependency).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import pg from "pg";
import { LruMap } from "toad-cache";
import { createCache } from "../src/cache/index.js";
import { REDIS_URL, redisUnreachable } from "../test/support/redis.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const BURST = Number(process.env.BENCH_BURST ?? 200);
const HIT_OPS = Number(process.env.BENCH_HIT_OPS ?? 200_000);
const REDIS_OPS = Number(process.env.BENCH_REDIS_OPS ?? 5_000);
const PG_URL = process.env.HOLDFAST_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const NS = `hf-bench-cache-${process.pid}`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const row = { id: 42, title: "Deploy checklist", tags: ["ops", "release", "oncall"], updatedAt: "2026-11-24T20:00:00.000Z" };

/** The "database": a real pg pool of 10, or a 20 ms timer behind a 10-slot semaphore. */
async function openLoader(): Promise<{ kind: string; load: () => Promise<unknown>; runs: () => number; close: () => Promise<void> }> {
  let runs = 0;
  const pool = new pg.Pool({ connectionString: PG_URL, max: 10, connectionTimeoutMillis: 2000 });
  pool.on("error", () => {});
  try {
    await pool.query("select 1");
    return {
      kind: "postgresql pg_sleep(0.02), pool max 10",
      load: async () => {
        runs++;
        await pool.query("select pg_sleep(0.02)");
        return row;
      },
      runs: () => runs,
      close: () => pool.end(),
    };
  } catch {
    await pool.end().catch(() => {});
    let free = 10;
    const waiting: Array<() => void> = [];
    return {
      kind: "timer 20 ms behind a 10-slot semaphore (PostgreSQL unreachable)",
      load: async () => {
        runs++;
        if (free === 0) await new Promise<void>((r) => waiting.push(r));
        else free--;
        await sleep(20);
        const next = waiting.shift();
        if (next) next();
        else free++;
        return row;
      },
      runs: () => runs,
      close: async () => {},
    };
  }
}

interface Burst {
  ms: number;
  queries: number;
}

async function stampede(name: string, loader: Awaited<ReturnType<typeof openLoader>>, round: number, hasRedis: boolean): Promise<Burst> {
  const key = `stampede:${name}:${round}`;
  const before = loader.runs();
  const t0 = performance.now();
  if (name === "cache-aside (toad-cache)") {
    const lru = new LruMap<unknown>(10_000, 60_000);
    await Promise.all(
      Array.from({ length: BURST }, async () => {
        const hit = lru.get(key);
        if (hit !== undefined) return hit;
        const v = await loader.load();
        lru.set(key, v);
        return v;
      }),
    );
  } else {
    const cache = createCache(name === "holdfast (redis)" && hasRedis ? { url: REDIS_URL, namespace: NS } : { namespace: NS });
    if (name === "holdfast (redis)") await cache.ready(2000);
    const started = performance.now();
    await Promise.all(Array.from({ length: BURST }, () => cache.wrap(key, loader.load, { ttlMs: 60_000 })));
    const ms = performance.now() - started;
    await cache.close();
    return { ms, queries: loader.runs() - before };
  }
  return { ms: performance.now() - t0, queries: loader.runs() - before };
}

async function memoryHits(name: string): Promise<number> {
  const key = "hit:row";
  let loop: () => Promise<unknown>;
  if (name === "holdfast") {
    const cache = createCache();
    await cache.set(key, row, { ttlMs: 3_600_000 });
    loop = () => cache.wrap(key, async () => row);
  } else if (name === "toad-cache LruMap") {
    const lru = new LruMap<unknown>(10_000, 3_600_000);
    lru.set(key, row);
    loop = async () => lru.get(key);
  } else {
    const m = new Map<string, string>([[key, JSON.stringify(row)]]);
    loop = async () => JSON.parse(m.get(key) as string);
  }
  const t0 = performance.now();
  for (let i = 0; i < HIT_OPS; i++) await loop();
  return HIT_OPS / ((performance.now() - t0) / 1000);
}

async function redisHits(name: string): Promise<number> {
  const key = "hit:row";
  if (name === "holdfast") {
    const cache = createCache({ url: REDIS_URL, namespace: NS });
    await cache.ready(2000);
    await cache.set(key, row, { ttlMs: 3_600_000 });
    const t0 = performance.now();
    for (let i = 0; i < REDIS_OPS; i++) await cache.wrap(key, async () => row);
    const rate = REDIS_OPS / ((performance.now() - t0) / 1000);
    await cache.close();
    return rate;
  }
  const r = new Redis(REDIS_URL);
  await r.set(`${NS}:raw`, JSON.stringify(row), "PX", 3_600_000);
  const t0 = performance.now();
  for (let i = 0; i < REDIS_OPS; i++) JSON.parse((await r.get(`${NS}:raw`)) as string);
  const rate = REDIS_OPS / ((performance.now() - t0) / 1000);
  r.disconnect();
  return rate;
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

async function main(): Promise<void> {
  const loader = await openLoader();
  const hasRedis = (await redisUnreachable()) === undefined;
  console.log(`bench:cache — ${ROUNDS} rounds, burst ${BURST}, loader: ${loader.kind}, Redis: ${hasRedis ? REDIS_URL : "unreachable (redis rows skipped)"}`);

  const burstNames = ["holdfast (memory)", ...(hasRedis ? ["holdfast (redis)"] : []), "cache-aside (toad-cache)"];
  const bursts = new Map<string, Burst[]>(burstNames.map((n) => [n, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const n of burstNames) bursts.get(n)?.push(await stampede(n, loader, round, hasRedis));
  }
  console.log(`\nstampede: ${BURST} concurrent requests, one cold key`);
  const burstMs = new Map<string, number>();
  for (const n of burstNames) {
    const rs = bursts.get(n) ?? [];
    burstMs.set(n, median(rs.map((r) => r.ms)));
    console.log(
      `  ${n.padEnd(26)} ${median(rs.map((r) => r.ms))
        .toFixed(1)
        .padStart(8)} ms until all answered, ${median(rs.map((r) => r.queries))} queries`,
    );
  }

  const hitNames = ["holdfast", "toad-cache LruMap", "Map + JSON.parse"];
  const hits = new Map<string, number[]>(hitNames.map((n) => [n, []]));
  for (let round = 0; round < ROUNDS; round++) for (const n of hitNames) hits.get(n)?.push(await memoryHits(n));
  console.log(`\nmemory hit (sequential, ${HIT_OPS} ops)`);
  for (const n of hitNames) console.log(`  ${n.padEnd(26)} ${fmt(median(hits.get(n) ?? [])).padStart(12)} hits/s`);

  const redisNames = ["holdfast", "ioredis GET + JSON.parse"];
  const rh = new Map<string, number[]>(redisNames.map((n) => [n, []]));
  if (hasRedis) {
    for (let round = 0; round < ROUNDS; round++) for (const n of redisNames) rh.get(n)?.push(await redisHits(n));
    console.log(`\nredis hit (sequential, ${REDIS_OPS} ops)`);
    for (const n of redisNames) console.log(`  ${n.padEnd(26)} ${fmt(median(rh.get(n) ?? [])).padStart(12)} hits/s`);
    const admin = new Redis(REDIS_URL);
    const keys = await admin.keys(`${NS}:*`);
    if (keys.length) await admin.del(...keys);
    admin.disconnect();
  }
  await loader.close();

  const aside = bursts.get("cache-aside (toad-cache)") ?? [];
  const hm = bursts.get("holdfast (memory)") ?? [];
  const summary = {
    bench: "cache",
    loader: loader.kind,
    burst: BURST,
    stampedeMs: Object.fromEntries([...burstMs].map(([k, v]) => [k, Number(v.toFixed(1))])),
    stampedeQueries: { holdfast: median(hm.map((r) => r.queries)), cacheAside: median(aside.map((r) => r.queries)) },
    stampedeSpeedupVsCacheAside: Number(((burstMs.get("cache-aside (toad-cache)") ?? 0) / (burstMs.get("holdfast (memory)") ?? 1)).toFixed(2)),
    memoryHitVsToad: Number((median(hits.get("holdfast") ?? []) / median(hits.get("toad-cache LruMap") ?? [])).toFixed(2)),
    memoryHitVsMapJsonParse: Number((median(hits.get("holdfast") ?? []) / median(hits.get("Map + JSON.parse") ?? [])).toFixed(2)),
    redisHitVsRawIoredis: hasRedis ? Number((median(rh.get("holdfast") ?? []) / median(rh.get("ioredis GET + JSON.parse") ?? [])).toFixed(2)) : null,
  };
  console.log(`\n${JSON.stringify(summary)}`);
}

await main();
