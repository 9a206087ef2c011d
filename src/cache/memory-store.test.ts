import assert from "node:assert/strict";
import { test } from "node:test";
import { MemoryStore } from "./memory-store.js";

const entry = (json: string, ms = 60_000) => ({ json, freshUntil: Date.now() + ms, staleUntil: Date.now() + ms });

test("the LRU bound holds and the least recently used entry goes first", async () => {
  const s = new MemoryStore(3);
  await s.write("a", entry("1"));
  await s.write("b", entry("2"));
  await s.write("c", entry("3"));
  assert.equal(s.peek("a")?.json, "1"); // a is now the most recently used
  await s.write("d", entry("4"));
  assert.equal(s.size(), 3);
  assert.equal(s.peek("b"), undefined, "b was least recently used and must be evicted");
  assert.deepEqual(
    ["a", "c", "d"].map((k) => s.peek(k)?.json),
    ["1", "3", "4"],
  );
  for (let i = 0; i < 1000; i++) await s.write(`k${i}`, entry(String(i)));
  assert.equal(s.size(), 3);
});

test("an entry past its stale window reads as absent and is dropped", async () => {
  const s = new MemoryStore(10);
  await s.write("old", { json: "1", freshUntil: Date.now() - 10, staleUntil: Date.now() - 1 });
  assert.equal(s.peek("old"), undefined);
  assert.equal(s.size(), 0);
});

test("a key that keeps being read survives a flood of new keys", async () => {
  const s = new MemoryStore(100);
  await s.write("hot", entry("h"));
  for (let i = 0; i < 5000; i++) {
    await s.write(`cold${i}`, entry(String(i)));
    assert.equal(s.peek("hot")?.json, "h", `evicted after ${i} new keys`);
  }
  assert.equal(s.size(), 100);
});
