/**
 * npm run bench:pool — acquire/release operations per second of holdfast's pool core against
 * tarn.js and generic-pool, on the same dummy resource, in the same run.
 *
 * Two shapes: "uncontended" (one caller in a loop: the fast path, a free resource every time)
 * and "contended" (32 callers sharing 8 resources: every acquire queues and is handed a released
 * resource). Each library runs ROUNDS times, interleaved, and the median is reported.
 * The last line is one JSON object with the ratios.
 */
import genericPool from "generic-pool";
import tarn from "tarn";
import { Pool } from "../src/db/pool/index.js";
import { median } from "./support.js";

const OPS = Number(process.env.BENCH_OPS ?? 200_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

interface Subject {
  name: string;
  open(max: number): Promise<{ loop: (ops: number) => Promise<void>; close: () => Promise<void> }>;
}

const dummy = async () => ({ id: Math.random() });

const subjects: Subject[] = [
  {
    name: "holdfast",
    async open(max) {
      const pool = new Pool<object>({ create: dummy, destroy: () => {}, max, acquireTimeout: 10_000, maxWaiting: 10_000 });
      return {
        async loop(ops) {
          for (let i = 0; i < ops; i++) (await pool.acquire()).release();
        },
        close: () => pool.close(),
      };
    },
  },
  {
    name: "tarn",
    async open(max) {
      const pool = new tarn.Pool<object>({ create: dummy, destroy: () => {}, min: 0, max, acquireTimeoutMillis: 10_000 });
      return {
        async loop(ops) {
          for (let i = 0; i < ops; i++) pool.release(await pool.acquire().promise);
        },
        close: () => pool.destroy(),
      };
    },
  },
  {
    name: "generic-pool",
    async open(max) {
      const pool = genericPool.createPool<object>({ create: dummy, destroy: async () => {} }, { min: 0, max, acquireTimeoutMillis: 10_000 });
      return {
        async loop(ops) {
          for (let i = 0; i < ops; i++) void pool.release(await pool.acquire());
        },
        close: async () => {
          await pool.drain();
          await pool.clear();
        },
      };
    },
  },
];

/** Operations per second for `callers` concurrent loops sharing a pool of `max`. */
async function measure(s: Subject, callers: number, max: number): Promise<number> {
  const pool = await s.open(max);
  await Promise.all(Array.from({ length: callers }, () => pool.loop(1000))); // warm-up, fills the pool
  const per = Math.floor(OPS / callers);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: callers }, () => pool.loop(per)));
  const seconds = (performance.now() - t0) / 1000;
  await pool.close();
  return (per * callers) / seconds;
}

const shapes = [
  { shape: "uncontended", callers: 1, max: 10 },
  { shape: "contended", callers: 32, max: 8 },
] as const;

const result: Record<string, Record<string, number>> = {};
for (const { shape, callers, max } of shapes) {
  const runs: Record<string, number[]> = Object.fromEntries(subjects.map((s) => [s.name, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const s of subjects) runs[s.name].push(await measure(s, callers, max));
  }
  const med = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, Math.round(median(v))]));
  result[shape] = {
    ...med,
    vsTarn: Math.round((med.holdfast / med.tarn) * 100) / 100,
    vsGenericPool: Math.round((med.holdfast / med["generic-pool"]) * 100) / 100,
  };
  console.log(
    `${shape.padEnd(12)} (${callers} caller${callers > 1 ? "s" : ""}, max ${max}, ${OPS} ops, median of ${ROUNDS}): ` +
      Object.entries(med)
        .map(([k, v]) => `${k} ${v.toLocaleString("en-US")} ops/s`)
        .join(" | ") +
      ` → ×${result[shape].vsTarn} tarn, ×${result[shape].vsGenericPool} generic-pool`,
  );
}
console.log(JSON.stringify({ bench: "pool", node: process.version, ops: OPS, rounds: ROUNDS, ...result }));
