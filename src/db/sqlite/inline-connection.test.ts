import assert from "node:assert/strict";
import { test } from "node:test";
import { inlineWritable } from "./inline-connection.js";

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
