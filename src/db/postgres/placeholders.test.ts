import assert from "node:assert/strict";
import { test } from "node:test";
import { numberPlaceholders, toPostgresText } from "./placeholders.js";

test("? placeholders become $1..$n in order", () => {
  assert.equal(numberPlaceholders("select * from t where a = ? and b in (?, ?)").text, "select * from t where a = $1 and b in ($2, $3)");
});

test("? inside strings, identifiers, dollar quotes and comments is left alone", () => {
  const sql = `select '?', 'it''s ?', E'\\'?', "col?", $$ ? $$, $fn$ ? $fn$ -- ?\n, /* ? /* ? */ ? */ ?`;
  const r = numberPlaceholders(sql);
  assert.equal(r.count, 1);
  assert.ok(r.text.endsWith("*/ $1"), r.text);
});

test("plain $n text and statements without values pass through untouched", () => {
  assert.equal(toPostgresText("select $1::int", 1), "select $1::int");
  assert.equal(toPostgresText("select '{\"a\":1}'::jsonb ? 'a'", 0), "select '{\"a\":1}'::jsonb ? 'a'");
});

test("a count mismatch fails with DB_QUERY_FAILED naming both numbers", () => {
  assert.throws(
    () => toPostgresText("select ?, ?", 1),
    (e: Error & { code?: string }) => e.code === "DB_QUERY_FAILED" && /2 "\?" placeholders but 1 value/.test(e.message),
  );
});
