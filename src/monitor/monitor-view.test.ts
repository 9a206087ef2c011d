// Keys of the terminal monitor: q (or Ctrl-C) quits, 1-4 and tab pick the panel, s cycles the worker order.
import assert from "node:assert/strict";
import { test } from "node:test";
import { applyKey, DEFAULT_VIEW, keyHelp } from "./monitor-view.js";

test("q, Q, Ctrl-C and Ctrl-D quit; other keys do not", () => {
  for (const k of ["q", "Q", "\x03", "\x04"]) assert.equal(applyKey(DEFAULT_VIEW, k).quit, true, JSON.stringify(k));
  assert.deepEqual(applyKey(DEFAULT_VIEW, "x"), { view: DEFAULT_VIEW, quit: false });
});

test("digits pick a panel, tab cycles them, s cycles the worker order", () => {
  assert.equal(applyKey(DEFAULT_VIEW, "2").view.panel, "workers");
  assert.equal(applyKey(DEFAULT_VIEW, "4").view.panel, "alerts");
  assert.equal(applyKey(DEFAULT_VIEW, "9").view.panel, "all");
  let v = DEFAULT_VIEW;
  const seen: string[] = [];
  for (let i = 0; i < 4; i++) {
    v = applyKey(v, "\t").view;
    seen.push(v.panel);
  }
  assert.deepEqual(seen, ["workers", "events", "alerts", "all"]);
  const sorts: string[] = [];
  for (let i = 0, view = DEFAULT_VIEW; i < 5; i++) {
    view = applyKey(view, "s").view;
    sorts.push(view.sort);
  }
  assert.deepEqual(sorts, ["rss", "lag", "inflight", "restarts", "slot"]);
  assert.match(keyHelp({ panel: "events", sort: "lag" }), /\(events\).*\(lag\)/);
  assert.ok(keyHelp({ panel: "workers", sort: "inflight" }).length <= 80, "fits 80 columns");
});
