import assert from "node:assert/strict";
import { test } from "node:test";
import { InflightList } from "./inflight-list.js";
import { InflightRequest } from "./inflight-request.js";

const entry = (id: string) => new InflightRequest(id, "GET", "/", 0, 0);
const ids = (list: InflightList) => [...list].map((e) => e.requestId);

test("the in-flight list keeps arrival order and its size through adds and deletes at either end and inside", () => {
  const list = new InflightList();
  const [a, b, c, d] = ["a", "b", "c", "d"].map(entry) as [InflightRequest, InflightRequest, InflightRequest, InflightRequest];
  for (const e of [a, b, c, d]) list.add(e);
  list.add(b); // already listed: stays where it is
  assert.deepEqual(ids(list), ["a", "b", "c", "d"]);
  assert.equal(list.size, 4);
  assert.equal(list.delete(b), true);
  assert.equal(list.delete(b), false, "a second delete is a no-op");
  assert.deepEqual(ids(list), ["a", "c", "d"]);
  list.delete(a);
  list.delete(d);
  assert.deepEqual(ids(list), ["c"]);
  list.delete(c);
  assert.equal(list.size, 0);
  assert.deepEqual(ids(list), []);
  list.add(d);
  assert.deepEqual(ids(list), ["d"]);
});

test("a deleted entry holds no neighbour alive, and the walk survives deleting what it visits", () => {
  const list = new InflightList();
  const es = ["a", "b", "c", "d", "e"].map(entry);
  for (const e of es) list.add(e);
  const seen: string[] = [];
  for (const e of list) {
    seen.push(e.requestId);
    // Deleting the visited entry (the deadline sweep's answer closes the response later, but a
    // caller may do it at once), and a later one, must not skip or repeat anything else.
    list.delete(e);
    if (e.requestId === "b") list.delete(es[3] as InflightRequest);
  }
  assert.deepEqual(seen, ["a", "b", "c", "e"]);
  assert.equal(list.size, 0);
  for (const e of es) assert.equal(e.listPrev ?? e.listNext, undefined, `${e.requestId} keeps no links`);
});

test("entries added while walking are visited once, at the end", () => {
  const list = new InflightList();
  list.add(entry("a"));
  const seen: string[] = [];
  for (const e of list) {
    seen.push(e.requestId);
    if (e.requestId === "a") list.add(entry("b"));
  }
  assert.deepEqual(seen, ["a", "b"]);
});
