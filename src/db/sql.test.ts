import assert from "node:assert/strict";
import { test } from "node:test";
import { sql, toNumberedPlaceholders, toStatement } from "./sql.js";
import { redactUrl } from "../telemetry/index.js";
import { parseDatabaseUrl } from "./url.js";

test("sql tag turns every interpolation into a ? placeholder with its value", () => {
  const d = new Date(0);
  const s = sql`SELECT * FROM t WHERE a = ${1} AND b = ${"x'y"} AND c IS ${null} AND d = ${d}`;
  assert.equal(s.text, "SELECT * FROM t WHERE a = ? AND b = ? AND c IS ? AND d = ?");
  assert.deepEqual(s.values, [1, "x'y", null, d]);
});

test("nested statements inline their text and values in order; raw splices trusted text", () => {
  const where = sql`b = ${2}`;
  const s = sql`SELECT * FROM ${sql.raw("my_table")} WHERE a = ${1} AND ${where} AND id IN (${sql.join([3, 4, 5])})`;
  assert.equal(s.text, "SELECT * FROM my_table WHERE a = ? AND b = ? AND id IN (?, ?, ?)");
  assert.deepEqual(s.values, [1, 2, 3, 4, 5]);
  assert.equal(sql`x IN (${sql.join([])})`.text, "x IN (NULL)");
});

test("sql tag rejects undefined, arrays and objects with a message saying what to do", () => {
  assert.throws(() => sql`a = ${undefined as unknown as null}`, /undefined.*Pass null/);
  assert.throws(() => sql`a IN (${[1, 2] as unknown as number})`, /sql\.join/);
  assert.throws(() => sql`a = ${{ x: 1 } as unknown as number}`, /JSON\.stringify/);
});

test("toStatement accepts text with params or a statement, not both", () => {
  assert.deepEqual(toStatement("SELECT ?", [1]).values, [1]);
  assert.equal(toStatement(sql`SELECT ${1}`).text, "SELECT ?");
  assert.throws(
    () => toStatement(sql`SELECT ${1}`, [2]),
    (e: { code?: string }) => e.code === "DB_QUERY_FAILED",
  );
});

test("? placeholders become $n for PostgreSQL, except inside strings, identifiers and comments", () => {
  assert.equal(toNumberedPlaceholders("SELECT ? , '?' , \"a?\" -- ?\n, ? /* ? */ , ?"), "SELECT $1 , '?' , \"a?\" -- ?\n, $2 /* ? */ , $3");
});

test("database URLs: sqlite paths resolve against cwd, postgres passes through, passwords are redacted", () => {
  assert.deepEqual(parseDatabaseUrl("sqlite:./data/app.db", "/srv/app"), {
    dialect: "sqlite",
    path: "/srv/app/data/app.db",
    url: "sqlite:/srv/app/data/app.db",
  });
  assert.equal(parseDatabaseUrl("sqlite:///var/db/x.db").dialect, "sqlite");
  assert.equal((parseDatabaseUrl("sqlite:///var/db/x.db") as { path: string }).path, "/var/db/x.db");
  assert.equal((parseDatabaseUrl("sqlite::memory:") as { path: string }).path, ":memory:");
  assert.equal((parseDatabaseUrl("./app.db", "/w") as { path: string }).path, "/w/app.db");
  assert.equal(parseDatabaseUrl("postgresql://u:p@h/db").dialect, "postgres");
  assert.throws(
    () => parseDatabaseUrl("mysql://u:secret@h/db"),
    (e: Error & { code?: string }) => e.code === "CONFIG_INVALID" && !e.message.includes("secret"),
  );
  assert.equal(redactUrl("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
});

test('parseDatabaseUrl refuses "sqlite:" with no path instead of opening a throw-away in-memory database', () => {
  for (const url of ["sqlite:", "sqlite://", "sqlite: "]) assert.throws(() => parseDatabaseUrl(url), /names no database file/, url);
});
