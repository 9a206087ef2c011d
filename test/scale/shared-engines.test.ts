// The demo on PostgreSQL + Redis by configuration alone: three instances started at once on a
// fresh schema migrate it without a single error (advisory lock), share the cache in Redis, and
// an Express app keeps its sessions in Redis on holdfast's Redis settings, found by every instance.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { test } from "node:test";
import { Redis } from "ioredis";
import type { Database } from "../../src/db/types.js";
import { openPostgres } from "../../src/db/postgres/postgres-database.js";
import { FIXTURES, type HoldfastProcess, startHoldfast } from "../support/holdfast-process.js";
import { adminQuery, requirePostgres } from "../support/postgres.js";
import { REDIS_URL } from "../support/redis.js";
import { dropNamespace, freshSchema, requireRedis, waitReady } from "./services.js";
import { eventually } from "../support/wait.js";

const NOTES = new URL("../../examples/notes/app.js", import.meta.url).pathname;
// The machine these tests run on is shared and busy: the event-loop guard may shed the first
// requests after a start (a correct 503 + Retry-After, tested elsewhere). These tests are about
// the shared engines, so that guard is off here.
const CALM = { HOLDFAST_ADMISSION_EVENT_LOOP_DELAY: "0" };
const errorLines = (hf: HoldfastProcess) => hf.logLines().filter((l) => l.level === "error" || l.level === "fatal");

/** Asserts the status, showing the body and the instance's last log lines when it differs. */
async function expectStatus(r: Response, status: number, hf: HoldfastProcess, what: string): Promise<void> {
  if (r.status === status) return;
  const tail = hf
    .logLines()
    .slice(-6)
    .map((l) => JSON.stringify(l))
    .join("\n");
  assert.fail(`${what}: expected ${status}, got ${r.status} ${await r.text()}\nlast log lines:\n${tail}`);
}

test("three notes instances started at once on a fresh PostgreSQL schema migrate it once, with no error, and share the Redis cache", async (t) => {
  if (!(await requirePostgres(t)) || !(await requireRedis(t))) return;
  const db = await freshSchema("hf_scale_migrate");
  const ns = `hf-scale-${randomBytes(4).toString("hex")}`;
  // A long lock wait, so a busy machine cannot turn a wait for another instance's load into a second load.
  const env = {
    ...CALM,
    HOLDFAST_DB_URL: db.url,
    HOLDFAST_CACHE_URL: REDIS_URL,
    HOLDFAST_CACHE_NAMESPACE: ns,
    HOLDFAST_DB_POOL_MAX: "2",
    HOLDFAST_CACHE_LOCK_WAIT: "5s",
  };
  const started = await Promise.allSettled([0, 1, 2].map(() => startHoldfast(NOTES, { env, workers: 2 })));
  const all = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  t.after(async () => {
    await Promise.all(all.map((hf) => hf.stop()));
    await db.drop();
    await dropNamespace(ns);
  });
  assert.equal(all.length, 3, started.map((s) => (s.status === "rejected" ? String(s.reason) : "ok")).join("\n"));
  const [a, b, c] = all as [HoldfastProcess, HoldfastProcess, HoldfastProcess];
  await Promise.all(all.map((hf) => waitReady(hf.adminUrl)));
  for (const hf of all) assert.deepEqual(errorLines(hf), [], `no error in ${hf.logFile}`);

  const tables = await adminQuery<{ n: string }>("select count(*) as n from pg_tables where schemaname = $1 and tablename = 'notes'", [db.schema]);
  assert.equal(Number(tables[0]?.n), 1, "the notes table exists once, in the test's schema");

  const created = await fetch(`${a.appUrl}/api/notes`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ title: "shared" }),
  });
  assert.equal(created.status, 201);
  const { note } = (await created.json()) as { note: { id: number; title: string } };
  for (const hf of [b, c]) {
    const r = await fetch(`${hf.appUrl}/api/notes/${note.id}`);
    assert.equal(r.status, 200);
    assert.equal(((await r.json()) as { note: { title: string } }).note.title, "shared");
  }
  const redis = new Redis(REDIS_URL);
  try {
    const keys = await redis.keys(`${ns}:*`);
    assert.ok(
      keys.some((k) => k.includes(`note:${note.id}`)),
      `the note is cached in Redis under ${ns}: (keys: ${keys.join(", ")})`,
    );
  } finally {
    redis.disconnect();
  }
  const rows = await adminQuery<{ title: string }>(`select title from ${db.schema}.notes where id = $1`, [note.id]);
  assert.equal(rows[0]?.title, "shared", "the write landed in PostgreSQL");

  // Single-flight across instances: 51 concurrent first reads of one note, 17 on each instance, load it once.
  const second = await fetch(`${a.appUrl}/api/notes`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ title: "once" }),
  });
  assert.equal(second.status, 201);
  const id = ((await second.json()) as { note: { id: number } }).note.id;
  const total = async (name: string) => (await Promise.all(all.map((hf) => metric(hf.adminUrl, name)))).reduce((x, y) => x + y, 0);
  const calls = async () => (await total("holdfast_cache_hits_total")) + (await total("holdfast_cache_misses_total"));
  // Workers report their cache counters to the supervisor's /metrics with each heartbeat: the
  // baseline waits for the two reads above to be counted, the check for all 51 reads below.
  const settle = async (atLeast: number) => {
    await eventually(async () => (await calls()) >= atLeast, 15_000, `${atLeast} cache calls counted`).catch(() => undefined);
    const n = await calls();
    assert.ok(n >= atLeast, `the instances counted ${atLeast} cache calls (${n})`);
    return n;
  };
  const callsBefore = await settle(2);
  const runsBefore = await total("holdfast_cache_loader_runs_total");
  const answers = await Promise.all(
    Array.from({ length: 51 }, (_, i) =>
      fetch(`${all[i % 3]?.appUrl}/api/notes/${id}`).then(async (r) => `${r.status} ${((await r.json()) as { note?: { title: string } }).note?.title}`),
    ),
  );
  assert.deepEqual([...new Set(answers)], ["200 once"]);
  await settle(callsBefore + 51);
  assert.equal((await total("holdfast_cache_loader_runs_total")) - runsBefore, 1, "the loader ran once for 51 concurrent misses over three instances");
});

/** The sum of a metric's samples on an admin endpoint's /metrics (all workers, all labels). */
async function metric(adminUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  return text
    .split("\n")
    .filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
}

test("the notes migration run by eight connections at the same instant creates the schema once, without an error", async (t) => {
  if (!(await requirePostgres(t))) return;
  const db = await freshSchema("hf_scale_race");
  const dbs = Array.from({ length: 8 }, () => openPostgres(db.url, { pool: { max: 1 } }));
  t.after(async () => {
    await Promise.all(dbs.map((d) => d.close()));
    await db.drop();
  });
  // Connect all first, so the eight migrations really start together rather than staggered by connects.
  await Promise.all(dbs.map((d) => d.get("select 1")));
  const { migrate } = (await import(NOTES)) as { migrate: (d: Database) => Promise<void> };
  const results = await Promise.allSettled(dbs.map((d) => migrate(d)));
  const failed = results.flatMap((r) => (r.status === "rejected" ? [String(r.reason)] : []));
  assert.deepEqual(failed, [], "no migration failed");
  const tables = await adminQuery<{ n: string }>("select count(*) as n from pg_tables where schemaname = $1 and tablename = 'notes'", [db.schema]);
  assert.equal(Number(tables[0]?.n), 1);
});

test("an Express app keeps its sessions in Redis on holdfast's cache settings: a login on one instance is known to another", async (t) => {
  if (!(await requireRedis(t))) return;
  const ns = `hf-sess-${randomBytes(4).toString("hex")}`;
  const env = { ...CALM, HOLDFAST_CACHE_URL: REDIS_URL, HOLDFAST_CACHE_NAMESPACE: ns, SESSION_SECRET: randomBytes(16).toString("hex") };
  const app = join(FIXTURES, "express-redis-session.mjs");
  const [a, b] = await Promise.all([startHoldfast(app, { env, workers: 1 }), startHoldfast(app, { env, workers: 1 })]);
  t.after(async () => {
    await Promise.all([a.stop(), b.stop()]);
    await dropNamespace(ns);
  });
  await Promise.all([waitReady(a.adminUrl), waitReady(b.adminUrl)]);
  await expectStatus(await fetch(`${b.appUrl}/me`), 401, b, "no cookie, no session");
  const login = await fetch(`${a.appUrl}/login/alice`, { method: "POST" });
  await expectStatus(login.clone(), 200, a, "login");
  // express-session stores the session while the last byte of the body waits: read the whole
  // answer before using its cookie, as a browser would before its next request.
  await login.text();
  const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  assert.match(cookie, /^connect\.sid=/);
  const me = await fetch(`${b.appUrl}/me`, { headers: { cookie } });
  await expectStatus(me.clone(), 200, b, "the other instance found the session");
  assert.equal(((await me.json()) as { user: string }).user, "alice");
  const redis = new Redis(REDIS_URL);
  try {
    assert.equal((await redis.keys(`${ns}:sess:*`)).length, 1, "one session stored in Redis under the cache namespace");
  } finally {
    redis.disconnect();
  }
});
