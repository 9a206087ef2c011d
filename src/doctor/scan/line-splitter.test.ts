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

test("the progress bar shows only on a TTY, only for big files, and ends exactly once", async () => {
  const { writeFileSync, truncateSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { tempDir } = await import("../../../test/support/temp-dir.js");
  const { progressBar } = await import("./scan-file.js");
  const dir = tempDir("holdfast-doctor-progress-");
  const small = join(dir, "small.log");
  writeFileSync(small, "x\n");
  const big = join(dir, "big.log");
  writeFileSync(big, "");
  truncateSync(big, 100 * 1024 * 1024); // sparse: no disk used
  const out: string[] = [];
  assert.equal(
    progressBar(big, false, (s) => out.push(s)),
    undefined,
    "not a TTY",
  );
  assert.equal(
    progressBar(small, true, (s) => out.push(s)),
    undefined,
    "too small to bother",
  );
  const bar = progressBar(big, true, (s) => out.push(s));
  bar?.(50, 100);
  bar?.(100, 100);
  bar?.(100, 100);
  assert.equal(out.filter((s) => s === "\n").length, 1);
  assert.match(out[0] ?? "", /big\.log +\[#{15} {15}\] +50%/);
});
