/**
 * The one contract suite for the Database API (DESIGN.md), run against every driver:
 * test/db-contract-sqlite.test.ts and test/db-contract-postgres.test.ts. A driver passes when
 * the same calls give the same answers; dialect differences are limited to column types.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { Deadline, runWithContext } from "../../src/context/index.js";
import { type Database, sql } from "../../src/db/index.js";

/** Column types per dialect: the only place the suite knows which driver it tests. */
function types(db: Database) {
  return db.dialect === "postgres"
    ? { int: "BIGINT", text: "TEXT", blob: "BYTEA", time: "TIMESTAMPTZ", real: "DOUBLE PRECISION" }
    : { int: "INTEGER", text: "TEXT", blob: "BLOB", time: "TEXT", real: "REAL" };
}

function codeOf(err: unknown): string | undefined {
  return (err as { code?: string })?.code;
}

/** Opens a database, creates a uniquely named table, runs `fn`, drops the table and closes. */
async function withTable(
  open: () => Promise<Database>,
  columns: (t: ReturnType<typeof types>) => string,
  fn: (db: Database, table: string) => Promise<void>,
): Promise<void> {
  const db = await open();
  const table = `hf_contract_${randomBytes(4).toString("hex")}`;
  try {
    await db.run(`CREATE TABLE ${table} (${columns(types(db))})`);
    await fn(db, table);
  } finally {
    await db.run(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
    await db.close();
  }
}

/** Registers the contract tests for one driver. `open` returns a fresh, usable Database. */
export function databaseContract(name: string, open: () => Promise<Database>): void {
  describe(`Database contract: ${name}`, () => {
    test("run reports changes; query returns every row in order; get returns the first row or undefined", async () => {
      await withTable(
        open,
        (t) => `id ${t.int} PRIMARY KEY, name ${t.text} NOT NULL`,
        async (db, table) => {
          const r = await db.run(`INSERT INTO ${table} (id, name) VALUES (?, ?), (?, ?)`, [1, "a", 2, "b"]);
          assert.equal(r.changes, 2);
          const rows = await db.query<{ id: number; name: string }>(`SELECT id, name FROM ${table} ORDER BY id`);
          assert.deepEqual(
            rows.map((x) => [Number(x.id), x.name]),
            [
              [1, "a"],
              [2, "b"],
            ],
          );
          const one = await db.get<{ name: string }>(sql`SELECT name FROM ${sql.raw(table)} WHERE id = ${2}`);
          assert.equal(one?.name, "b");
          assert.equal(await db.get(sql`SELECT name FROM ${sql.raw(table)} WHERE id = ${99}`), undefined);
          const upd = await db.run(sql`UPDATE ${sql.raw(table)} SET name = ${"z"} WHERE id >= ${1}`);
          assert.equal(upd.changes, 2);
        },
      );
    });

    test("sql tag binds null, bigint, bytes, Date, boolean and quote-laden text as parameters, never as SQL", async () => {
      await withTable(
        open,
        (t) => `id ${t.int} PRIMARY KEY, s ${t.text}, big ${t.int}, bytes ${t.blob}, at ${t.time}, flag ${t.int}, r ${t.real}`,
        async (db, table) => {
          const at = new Date("2026-11-24T03:00:00.123Z");
          const bytes = new Uint8Array([0, 1, 2, 253, 254, 255]);
          const evil = "Robert'); DROP TABLE students;--";
          await db.run(
            sql`INSERT INTO ${sql.raw(table)} (id, s, big, bytes, at, flag, r) VALUES (${1}, ${evil}, ${2n ** 40n}, ${bytes}, ${at}, ${db.dialect === "postgres" ? 1 : true}, ${1.5})`,
          );
          await db.run(sql`INSERT INTO ${sql.raw(table)} (id, s, big, bytes, at) VALUES (${2}, ${null}, ${null}, ${null}, ${null})`);
          const row = await db.get<Record<string, unknown>>(sql`SELECT * FROM ${sql.raw(table)} WHERE id = ${1}`);
          assert.ok(row);
          assert.equal(row.s, evil);
          assert.equal(BigInt(row.big as string | number | bigint), 2n ** 40n);
          assert.ok(row.bytes instanceof Uint8Array, `bytes came back as ${typeof row.bytes}`);
          assert.deepEqual([...(row.bytes as Uint8Array)], [...bytes]);
          assert.equal(new Date(row.at as string | Date).getTime(), at.getTime());
          assert.equal(Number(row.flag), 1);
          assert.equal(Number(row.r), 1.5);
          const nulls = await db.get<Record<string, unknown>>(sql`SELECT s, big, bytes, at FROM ${sql.raw(table)} WHERE id = ${2}`);
          assert.deepEqual(nulls, { s: null, big: null, bytes: null, at: null });
          const inList = await db.query(sql`SELECT id FROM ${sql.raw(table)} WHERE id IN (${sql.join([1, 2, 3])}) ORDER BY id`);
          assert.equal(inList.length, 2);
        },
      );
    });

    test("sql tag refuses undefined instead of binding it", () => {
      assert.throws(
        () => sql`SELECT ${undefined as unknown as null}`,
        (e) => codeOf(e) === "DB_QUERY_FAILED",
      );
    });

    test("batch is atomic: when one statement fails, none is applied", async () => {
      await withTable(
        open,
        (t) => `id ${t.int} PRIMARY KEY, name ${t.text}`,
        async (db, table) => {
          const ok = await db.batch([
            sql`INSERT INTO ${sql.raw(table)} (id, name) VALUES (${1}, ${"a"})`,
            sql`INSERT INTO ${sql.raw(table)} (id, name) VALUES (${2}, ${"b"})`,
          ]);
          assert.deepEqual(
            ok.map((r) => r.changes),
            [1, 1],
          );
          await assert.rejects(
            db.batch([
              sql`INSERT INTO ${sql.raw(table)} (id, name) VALUES (${3}, ${"c"})`,
              sql`INSERT INTO ${sql.raw(table)} (id, name) VALUES (${1}, ${"duplicate"})`,
            ]),
            (e) => codeOf(e) === "DB_QUERY_FAILED",
          );
          const rows = await db.query<{ id: number }>(`SELECT id FROM ${table} ORDER BY id`);
          assert.deepEqual(
            rows.map((r) => Number(r.id)),
            [1, 2],
          );
          assert.deepEqual(await db.batch([]), []);
        },
      );
    });

    test("transaction commits what fn wrote and returns its value; reads inside see the writes", async () => {
      await withTable(
        open,
        (t) => `id ${t.int} PRIMARY KEY, n ${t.int}`,
        async (db, table) => {
          await db.run(`INSERT INTO ${table} (id, n) VALUES (1, 10)`);
          const v = await db.transaction(async (tx) => {
            const row = await tx.get<{ n: number }>(sql`SELECT n FROM ${sql.raw(table)} WHERE id = ${1}`);
            await tx.run(sql`UPDATE ${sql.raw(table)} SET n = ${Number(row?.n) + 1} WHERE id = ${1}`);
            const after = await tx.get<{ n: number }>(sql`SELECT n FROM ${sql.raw(table)} WHERE id = ${1}`);
            return Number(after?.n);
          });
          assert.equal(v, 11);
          assert.equal(Number((await db.get<{ n: number }>(`SELECT n FROM ${table} WHERE id = 1`))?.n), 11);
        },
      );
    });

    test("transaction rolls back when fn throws, and rethrows the same error", async () => {
      await withTable(
        open,
        (t) => `id ${t.int} PRIMARY KEY`,
        async (db, table) => {
          const boom = new Error("boom");
          await assert.rejects(
            db.transaction(async (tx) => {
              await tx.run(`INSERT INTO ${table} (id) VALUES (1)`);
              throw boom;
            }),
            (e) => e === boom,
          );
          assert.equal((await db.query(`SELECT id FROM ${table}`)).length, 0);
          // The database is usable afterwards: the rollback released the write lock.
          await db.run(`INSERT INTO ${table} (id) VALUES (2)`);
          assert.equal((await db.query(`SELECT id FROM ${table}`)).length, 1);
        },
      );
    });

    test("concurrent writes and reads all complete and are all visible", async () => {
      await withTable(
        open,
        (t) => `id ${t.int} PRIMARY KEY, v ${t.text}`,
        async (db, table) => {
          const n = 200;
          const writes = Array.from({ length: n }, (_, i) => db.run(sql`INSERT INTO ${sql.raw(table)} (id, v) VALUES (${i}, ${`v${i}`})`));
          const reads = Array.from({ length: 50 }, () => db.query(`SELECT count(*) AS c FROM ${table}`));
          await Promise.all([...writes, ...reads]);
          assert.equal(Number((await db.get<{ c: number }>(`SELECT count(*) AS c FROM ${table}`))?.c), n);
        },
      );
    });

    test("a statement the database rejects fails with DB_QUERY_FAILED, not a raw driver error", async () => {
      const db = await open();
      try {
        await assert.rejects(db.query("SELEC nonsense"), (e) => codeOf(e) === "DB_QUERY_FAILED" && (e as { httpStatus?: number }).httpStatus === 500);
        await assert.rejects(db.run("INSERT INTO hf_no_such_table VALUES (1)"), (e) => codeOf(e) === "DB_QUERY_FAILED");
      } finally {
        await db.close();
      }
    });

    test("a call made after the request deadline passed fails with DEADLINE_EXCEEDED without running", async () => {
      await withTable(
        open,
        (t) => `id ${t.int} PRIMARY KEY`,
        async (db, table) => {
          const ctx = { requestId: "r1", deadline: new Deadline(performance.now() - 1), signal: AbortSignal.abort() };
          await assert.rejects(
            runWithContext(ctx, () => db.run(`INSERT INTO ${table} (id) VALUES (1)`)),
            (e) => codeOf(e) === "DEADLINE_EXCEEDED",
          );
          await assert.rejects(
            runWithContext(ctx, () => db.query(`SELECT * FROM ${table}`)),
            (e) => codeOf(e) === "DEADLINE_EXCEEDED",
          );
          assert.equal((await db.query(`SELECT id FROM ${table}`)).length, 0);
        },
      );
    });

    test("status() reports the dialect, a password-free URL and pool figures", async () => {
      const db = await open();
      try {
        await db.query("SELECT 1 AS one");
        const s = db.status();
        assert.equal(s.dialect, db.dialect);
        assert.doesNotMatch(s.url, /:[^:@/]+@/, "status().url must not contain a password");
        assert.ok(s.pool.size >= 1 && s.pool.max >= s.pool.size);
        assert.ok(s.pool.utilization >= 0 && s.pool.utilization <= 1);
        assert.ok(s.pool.acquireWaitMs.count >= 1);
        if (db.dialect === "sqlite" && !s.url.includes(":memory:")) assert.equal(s.sqlite?.journalMode, "wal");
      } finally {
        await db.close();
      }
    });

    test("close() finishes running statements, then later calls fail with POOL_CLOSED", async () => {
      const db = await open();
      await db.query("SELECT 1 AS one"); // warm: a connection (PostgreSQL) or the threads (SQLite) exist
      const running = db.query("SELECT 1 AS one").then(
        (rows) => rows.map((r) => Number((r as { one: number }).one)),
        (e: unknown) => e,
      );
      await db.close();
      assert.deepEqual(await running, [1], "a statement started before close() must complete");
      await assert.rejects(db.query("SELECT 1"), (e) => codeOf(e) === "POOL_CLOSED");
      await db.close(); // idempotent
    });
  });
}
