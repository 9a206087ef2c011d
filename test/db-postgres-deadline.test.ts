/**
 * Deadlines reach PostgreSQL: a statement still running when the request's deadline passes is
 * cancelled on the server (not just abandoned by the client), and its connection is reused.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { Deadline, runWithContext } from "../src/context/index.js";
import { openPostgres } from "../src/db/postgres/index.js";
import { adminQuery, PG_URL, requirePostgres, uniqueName } from "./support/postgres.js";
import { eventually } from "./support/wait.js";

const schema = uniqueName("hf_deadline");
let schemaMade = false;

after(async () => {
  if (schemaMade) await adminQuery(`drop schema if exists ${schema} cascade`);
});

function inRequest<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  return runWithContext({ requestId: "req", deadline: Deadline.after(ms), signal: new AbortController().signal }, fn);
}

async function failure(p: Promise<unknown>): Promise<Error & { code?: string }> {
  return p.then(
    () => assert.fail("expected a failure"),
    (e: Error & { code?: string }) => e,
  );
}

/** Statements of `app` still running on the server. */
async function running(app: string): Promise<string[]> {
  const rows = await adminQuery<{ query: string }>("select query from pg_stat_activity where application_name = $1 and state = 'active'", [app]);
  return rows.map((r) => r.query);
}

test("pg_sleep past the request deadline is cancelled on the server with DEADLINE_EXCEEDED, and the connection is reused", async (t) => {
  if (!(await requirePostgres(t))) return;
  const app = uniqueName("hf_deadline_sleep");
  const db = openPostgres(PG_URL, { pool: { max: 1 }, applicationName: app });
  try {
    await db.query("select 1"); // open the one connection first
    const t0 = performance.now();
    const err = await failure(inRequest(300, () => db.query("select pg_sleep(10)")));
    const took = performance.now() - t0;
    assert.equal(err.code, "DEADLINE_EXCEEDED");
    assert.match(err.message, /cancelled because the request deadline/);
    // pg_sleep(10) would take 10 s; the rest of the bound is slack for a loaded machine.
    assert.ok(took >= 280 && took < 2500, `failed after ${Math.round(took)} ms with a 300 ms deadline`);
    assert.deepEqual(await running(app), [], "nothing of ours still runs on the server");
    assert.deepEqual(await db.query<{ one: number }>("select 1 as one"), [{ one: 1 }]);
    const s = db.status().pool;
    assert.equal(s.creates, 1, `the cancelled connection was reused, not replaced: ${JSON.stringify(s)}`);
    assert.equal(s.destroys, 0);
  } finally {
    await db.close();
  }
});

test("db.statementTimeout cancels a long statement outside any request", async (t) => {
  if (!(await requirePostgres(t))) return;
  const db = openPostgres(PG_URL, { pool: { max: 1 }, statementTimeout: 200, applicationName: uniqueName("hf_stmt") });
  try {
    const t0 = performance.now();
    const err = await failure(db.query("select pg_sleep(10)"));
    assert.equal(err.code, "DEADLINE_EXCEEDED");
    assert.match(err.message, /db\.statementTimeout \(200 ms\)/);
    assert.ok(performance.now() - t0 < 2500);
  } finally {
    await db.close();
  }
});

test("waiting for a busy pool is cut by the request deadline (POOL_TIMEOUT, 503) long before acquireTimeout", async (t) => {
  if (!(await requirePostgres(t))) return;
  const db = openPostgres(PG_URL, { pool: { max: 1, acquireTimeout: 5000 }, applicationName: uniqueName("hf_acq") });
  try {
    const holder = db.query("select pg_sleep(0.8)");
    await eventually(() => db.status().pool.busy === 1, 5_000, "the holder's connection");
    const t0 = performance.now();
    const err = await failure(inRequest(200, () => db.query("select 1")));
    const took = performance.now() - t0;
    assert.equal(err.code, "POOL_TIMEOUT");
    assert.match(err.message, /request deadline cut the wait/);
    assert.ok(took >= 180 && took < 1500, `failed after ${Math.round(took)} ms`);
    await holder;
  } finally {
    await db.close();
  }
});

test("a transaction cancelled at the deadline is rolled back and its connection reused", async (t) => {
  if (!(await requirePostgres(t))) return;
  await adminQuery(`create schema ${schema}`);
  schemaMade = true;
  await adminQuery(`create table ${schema}.t (v text)`);
  const db = openPostgres(PG_URL, { pool: { max: 1 }, applicationName: uniqueName("hf_tx") });
  try {
    const err = await failure(
      inRequest(300, () =>
        db.transaction(async (tx) => {
          await tx.run({ text: `insert into ${schema}.t (v) values (?)`, values: ["lost"] });
          await tx.query("select pg_sleep(10)");
        }),
      ),
    );
    assert.equal(err.code, "DEADLINE_EXCEEDED");
    assert.deepEqual(await db.query(`select v from ${schema}.t`), []);
    assert.equal(db.status().pool.destroys, 0);
  } finally {
    await db.close();
  }
});

test("a request whose deadline already passed sends nothing and fails with DEADLINE_EXCEEDED", async (t) => {
  if (!(await requirePostgres(t))) return;
  const db = openPostgres(PG_URL, { pool: { max: 1 }, applicationName: uniqueName("hf_late") });
  try {
    const err = await failure(
      inRequest(1, async () => {
        await new Promise((r) => setTimeout(r, 10));
        return db.query("select 1");
      }),
    );
    assert.equal(err.code, "DEADLINE_EXCEEDED");
    assert.equal(db.status().pool.creates, 0, "no connection was even opened");
  } finally {
    await db.close();
  }
});

test("a statement whose request is aborted (client went away) is cancelled on the server at once", async (t) => {
  if (!(await requirePostgres(t))) return;
  const app = uniqueName("hf_abort");
  const db = openPostgres(PG_URL, { pool: { max: 1 }, applicationName: app });
  try {
    const ac = new AbortController();
    const ctx = { requestId: "gone", deadline: Deadline.after(30_000), signal: ac.signal };
    const pending = runWithContext(ctx, () => db.query("select pg_sleep(10)"));
    await eventually(async () => (await running(app)).length === 1, 5_000, "the statement running on the server");
    const t0 = performance.now();
    ac.abort(new Error("client closed the connection"));
    const err = await failure(pending);
    assert.equal(err.code, "DEADLINE_EXCEEDED");
    assert.match(err.message, /client went away/);
    assert.ok(performance.now() - t0 < 1500);
    assert.deepEqual(await running(app), []);
  } finally {
    await db.close();
  }
});
