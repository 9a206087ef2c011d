import assert from "node:assert/strict";
import { test } from "node:test";
import { inlineWritable, plainBytesOf } from "./inline-connection.js";

test("only plain DML may run as an inline write; connection state (pragmas, transactions, ATTACH, VACUUM) stays on the writer's connection", () => {
  for (const text of [
    "INSERT INTO t (a) VALUES (?)",
    "  update t SET a = 1 WHERE id = ?",
    "DELETE FROM t WHERE id = ?",
    "REPLACE INTO t (a) VALUES (1)",
    "WITH x AS (SELECT 1 AS a) INSERT INTO t (a) SELECT a FROM x",
    "\ninsert or ignore into t (a) values (1)",
  ]) {
    assert.equal(inlineWritable(text), true, text);
  }
  for (const text of [
    "PRAGMA foreign_keys = OFF",
    "BEGIN",
    "BEGIN IMMEDIATE",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT a",
    "RELEASE a",
    "ATTACH DATABASE 'x.db' AS x",
    "VACUUM",
    "CREATE TABLE t (a)",
    "DROP TABLE t",
    "SELECT 1",
    "inserted_rows()",
  ]) {
    assert.equal(inlineWritable(text), false, text);
  }
});

test("the per-statement BLOB check turns Buffers into plain Uint8Arrays under any column name, and a name cannot inject code", () => {
  const names = ["id", "a b", 'q"uote', "back\\slash", "\u2028line", '"]; throw new Error("injected"); r["', "__proto__x", "id"];
  const fix = plainBytesOf(names);
  const row: Record<string, unknown> = { id: 1, "a b": Buffer.from([1, 2]), 'q"uote': "text", "back\\slash": null, "\u2028line": Buffer.from("x") };
  row['"]; throw new Error("injected"); r["'] = Buffer.from([3]);
  row.__proto__x = 2.5;
  fix(row);
  assert.equal(row.id, 1);
  for (const k of ["a b", "\u2028line", '"]; throw new Error("injected"); r["']) {
    assert.ok(row[k] instanceof Uint8Array && !Buffer.isBuffer(row[k]), `${k} is still a Buffer`);
  }
  assert.deepEqual([...(row["a b"] as Uint8Array)], [1, 2]);
  assert.equal(row['q"uote'], "text");
  assert.equal(row["back\\slash"], null);
  assert.equal(row.__proto__x, 2.5);
});
