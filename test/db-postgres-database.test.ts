// The PostgreSQL Database on a real server: placeholders, transactions, atomic batches, error codes, an unreachable or full server, and no password in status or errors.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { adminQuery, PG_URL, requirePostgres, uniqueName } from "./support/postgres.js";
import { eventually } from "./support/wait.js";
import type { Database } from "../src/db/index.js";
import { openPostgres } from "../src/db/postgres/index.js";

const schema = uniqueName("hf_pgdb");
const app = uniqueName("hf_pgdb_app");
let db: Database | undefined;
let up = false;

before(async (t) => {
  up = await requirePostgres(t as never).catch(() => false);
  if (!up) return;
  await adminQuery(`create schema ${schema}`);
  await adminQuery(`create table ${schema}.notes (id serial primary key, body text not null unique, n int8)`);
  db = openPostgres(PG_URL, { pool: { max: 3, acquireTimeout: 2000 }, applicationName: app });
});

after(async () => {
  await db?.close();
  if (up) await adminQuery(`drop schema if exists ${schema} cascade`);
});

/** The database, or skip/fail (per CI) when PostgreSQL is unreachable. */
async function pgdb(t: Parameters<typeof requirePostgres>[0]): Promise<Database | undefined> {
  if (!(await requirePostgres(t))) return undefined;
  return db;
}

test("query/get/run with ? placeholders (sql tag shape) and plain $n strings", async (t) => {
  const d = await pgdb(t);
  if (!d) return;
  const r = await d.run({ text: `insert into ${schema}.notes (body, n) values (?, ?)`, values: ["first", 9007199254740993n] });
  assert.equal(r.changes, 1);
  assert.equal(r.lastInsertRowid, undefined);
  await d.run(`insert into ${schema}.notes (body, n) values ($1, $2)`, ["second", 2]);
  const rows = await d.query<{ body: string; n: number | bigint }>(`select body, n from ${schema}.notes where body <> '?' order by id`);
  assert.deepEqual(
    rows.map((x) => x.body),
    ["first", "second"],
  );
  assert.equal(rows[0].n, 9007199254740993n, "int8 beyond 2^53 stays exact (bigint)");
  assert.equal(rows[1].n, 2, "small int8 is a number, as in SQLite");
  const one = await d.get<{ c: number }>({ text: `select count(*) as c from ${schema}.notes where body = ?`, values: ["second"] });
  assert.equal(one?.c, 1);
  assert.equal(await d.get(`select 1 from ${schema}.notes where false`), undefined);
});

test("transaction commits, and rolls back when the callback throws", async (t) => {
  const d = await pgdb(t);
  if (!d) return;
  await d.transaction(async (tx) => {
    await tx.run({ text: `insert into ${schema}.notes (body) values (?)`, values: ["tx-ok"] });
  });
  await assert.rejects(
    d.transaction(async (tx) => {
      await tx.run({ text: `insert into ${schema}.notes (body) values (?)`, values: ["tx-undone"] });
      throw new Error("handler failed");
    }),
    /handler failed/,
  );
  const bodies = (await d.query<{ body: string }>(`select body from ${schema}.notes where body like 'tx-%'`)).map((r) => r.body);
  assert.deepEqual(bodies, ["tx-ok"]);
  assert.equal(d.status().pool.busy, 0, "the connection came back after the rollback");
});

test("batch is atomic: a failing statement undoes the ones before it", async (t) => {
  const d = await pgdb(t);
  if (!d) return;
  const err = (await d
    .batch([
      { text: `insert into ${schema}.notes (body) values (?)`, values: ["batch-a"] },
      { text: `insert into ${schema}.notes (body) values (?)`, values: ["batch-a"] }, // unique violation
    ])
    .catch((e: unknown) => e)) as Error & { code?: string; details?: { sqlstate?: string } };
  assert.equal(err.code, "DB_QUERY_FAILED");
  assert.equal(err.details?.sqlstate, "23505");
  assert.equal((await d.query(`select 1 from ${schema}.notes where body = 'batch-a'`)).length, 0);
  const ok = await d.batch([
    { text: `insert into ${schema}.notes (body) values (?)`, values: ["batch-b"] },
    { text: `update ${schema}.notes set n = ? where body = ?`, values: [5, "batch-b"] },
  ]);
  assert.deepEqual(
    ok.map((r) => r.changes),
    [1, 1],
  );
});

test("a SQL error is DB_QUERY_FAILED with the pg message and SQLSTATE, and the connection is reused", async (t) => {
  const d = await pgdb(t);
  if (!d) return;
  const before = d.status().pool.destroys;
  const err = (await d.query("selec 1").catch((e: unknown) => e)) as Error & { code?: string };
  assert.equal(err.code, "DB_QUERY_FAILED");
  assert.match(err.message, /syntax error.*SQLSTATE 42601/);
  assert.equal(d.status().pool.destroys, before);
});

test("status() never shows the password", async (t) => {
  if (!(await requirePostgres(t))) return;
  const withPassword = PG_URL.replace("postgres@", "postgres:hunter2@");
  const d = openPostgres(withPassword, { pool: { max: 1 } });
  const s = d.status();
  assert.equal(s.dialect, "postgres");
  assert.doesNotMatch(JSON.stringify(s), /hunter2/);
  assert.doesNotMatch(JSON.stringify(d), /hunter2/);
  await d.close();
});

test("an unreachable server fails with DB_UNAVAILABLE within the acquire timeout, naming the cause", async () => {
  const d = openPostgres("postgres://postgres@127.0.0.1:1/test", { pool: { max: 2, acquireTimeout: 600 } });
  const t0 = performance.now();
  const err = (await d.query("select 1").catch((e: unknown) => e)) as Error & { code?: string; retryAfter?: number };
  const waited = performance.now() - t0;
  assert.equal(err.code, "DB_UNAVAILABLE");
  assert.match(err.message, /ECONNREFUSED/);
  assert.ok(waited < 2000, `failed after ${waited} ms`);
  assert.ok((err.retryAfter ?? 0) > 0);
  await d.close();
});

test("too many connections (SQLSTATE 53300) is DB_UNAVAILABLE naming pool.max × workers", async (t) => {
  if (!(await requirePostgres(t))) return;
  const role = uniqueName("hf_limited");
  await adminQuery(`create role ${role} login connection limit 1`);
  const url = new URL(PG_URL);
  url.username = role;
  url.password = "";
  const previous = process.env.HOLDFAST_WORKERS;
  process.env.HOLDFAST_WORKERS = "4";
  const d = openPostgres(url.toString(), { pool: { max: 3, acquireTimeout: 500 } });
  try {
    // The first connection fits the role's limit of 1; the second is refused with 53300.
    // The second query starts once the first holds its connection, so it needs a second one.
    const results = await Promise.allSettled([
      d.query("select pg_sleep(1)"),
      eventually(() => d.status().pool.busy >= 1, 5_000, "the first query holding a connection").then(() => d.query("select 1")),
    ]);
    assert.equal(results[0].status, "fulfilled");
    const second = results[1];
    assert.equal(second.status, "rejected");
    const err = (second as PromiseRejectedResult).reason as Error & { code?: string };
    assert.ok(err.code === "POOL_TIMEOUT" || err.code === "DB_UNAVAILABLE", err.code);
    assert.match(err.message, /53300/);
    assert.match(err.message, /db\.pool\.max \(3\) × 4 worker processes/);
  } finally {
    if (previous === undefined) delete process.env.HOLDFAST_WORKERS;
    else process.env.HOLDFAST_WORKERS = previous;
    await d.close();
    await adminQuery(`drop role ${role}`);
  }
});

test("a URL that is not a PostgreSQL URL fails at open with CONFIG_INVALID, without the password", () => {
  assert.throws(
    () => openPostgres("mysql://u:hunter2@host/db"),
    (e: Error & { code?: string }) => e.code === "CONFIG_INVALID" && !e.message.includes("hunter2") && /postgres:\/\//.test(e.message),
  );
});
