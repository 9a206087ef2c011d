import assert from "node:assert/strict";
import { test } from "node:test";
import { LineSplitter } from "./line-splitter.js";

test("lines cut across chunks, CRLF and a missing final newline come out whole and numbered", () => {
  const got: [number, string][] = [];
  const s = new LineSplitter((t, a, b, n) => got.push([n, t.slice(a, b)]));
  s.push(Buffer.from("one\r\ntw"));
  s.push(Buffer.from("o\n\nthr"));
  s.push(Buffer.from("ée"));
  s.end();
  assert.deepEqual(got, [
    [1, "one"],
    [2, "two"],
    [3, ""],
    [4, "thrée"],
  ]);
});

test("a multi-byte character split between chunks is decoded once, intact", () => {
  const bytes = Buffer.from("añb\n");
  const got: string[] = [];
  const s = new LineSplitter((t, a, b) => got.push(t.slice(a, b)));
  s.push(bytes.subarray(0, 2));
  s.push(bytes.subarray(2));
  s.end();
  assert.deepEqual(got, ["añb"]);
});

test("a line longer than a chunk, split over three chunks, comes out once; latin1 keeps bytes 1:1", () => {
  const got: string[] = [];
  const s = new LineSplitter((t, a, b) => got.push(t.slice(a, b)), "latin1");
  s.push(Buffer.from("head\nlo"));
  s.push(Buffer.from("ooo"));
  s.push(Buffer.from("ng\ntail\\x22\n"));
  s.end();
  assert.deepEqual(got, ["head", "loooong", "tail\\x22"]);
});
