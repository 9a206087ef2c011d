import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeValue, encodeValue } from "./json-value.js";

test("plain data round-trips and every decode is a new copy", () => {
  const json = encodeValue({ a: [1, "x", null, true], b: { c: 2.5 } }, "k");
  const one = decodeValue<{ a: unknown[] }>(json);
  const two = decodeValue<{ a: unknown[] }>(json);
  assert.deepEqual(one, { a: [1, "x", null, true], b: { c: 2.5 } });
  one.a.push("mutated");
  assert.equal(two.a.length, 4);
});

test("undefined at the top is rejected with a hint to return null", () => {
  assert.throws(
    () => encodeValue(undefined, "notes:1"),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, "INTERNAL");
      assert.match(err.message, /notes:1/);
      assert.match(err.message, /Return null/);
      return true;
    },
  );
});

test("functions, symbols and bigints are rejected naming the property", () => {
  assert.throws(() => encodeValue({ ok: 1, fn: () => 1 }, "k"), /property "fn" is a function/);
  assert.throws(() => encodeValue({ s: Symbol("x") }, "k"), /property "s" is a symbol/);
  assert.throws(() => encodeValue({ n: 10n }, "k"), /property "n" is a bigint/);
  assert.throws(() => encodeValue(() => 1, "k"), /the value itself/);
});

test("circular values are rejected with the key in the message", () => {
  const a: Record<string, unknown> = {};
  a.self = a;
  assert.throws(() => encodeValue(a, "loop"), /Cache key "loop": the value cannot be turned into JSON/);
});

test("JSON's own conversions apply: Date becomes its ISO string, undefined properties are dropped", () => {
  const d = new Date("2026-01-02T03:04:05.000Z");
  assert.deepEqual(decodeValue(encodeValue({ d, gone: undefined }, "k")), { d: "2026-01-02T03:04:05.000Z" });
});
