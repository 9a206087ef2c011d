/**
 * The request context is carried across awaits only once something asks for it: before that a
 * request pays no AsyncLocalStorage.run(), and its handler still sees its context synchronously.
 * Module state is per process: this file runs in its own process (not with the unit tests beside
 * the code, which share one) and node:test runs its tests in order.
 */
import assert from "node:assert/strict";
import { AsyncLocalStorage } from "node:async_hooks";
import { join } from "node:path";
import { mock, test } from "node:test";
import { setImmediate as nextTurn } from "node:timers/promises";
import { callWithContext, currentContext, currentDeadline, Deadline, type RequestContext, runWithContext } from "../src/context/index.js";
import { FIXTURES, startHoldfast } from "./support/holdfast-process.js";

const ctx = (id: string, deadlineMs = 1000): RequestContext => ({ requestId: id, deadline: Deadline.after(deadlineMs), signal: new AbortController().signal });

test("before anything asks, a request makes no AsyncLocalStorage.run and its handler gets its arguments and result", () => {
  const run = mock.method(AsyncLocalStorage.prototype, "run");
  try {
    const r = callWithContext(ctx("a"), (x: number, y: string) => `${y}${x}`, 1, "n");
    assert.equal(r, "n1");
    assert.equal(run.mock.callCount(), 0);
  } finally {
    run.mock.restore();
  }
});

test("a throw in the handler restores the outer context", () => {
  const outer = ctx("outer");
  callWithContext(
    outer,
    () => {
      assert.throws(
        () =>
          callWithContext(
            ctx("inner"),
            () => {
              throw new Error("boom");
            },
            undefined,
            undefined,
          ),
        /boom/,
      );
      // This first ask turns carrying on; it still sees the outer request, synchronously.
      assert.equal(currentContext(), outer);
    },
    undefined,
    undefined,
  );
});

test("once asked, every later request carries its context across awaits", async () => {
  assert.equal(currentContext(), undefined, "outside a request there is no context");
  assert.equal(currentDeadline(), Deadline.NONE);
  const run = mock.method(AsyncLocalStorage.prototype, "run");
  try {
    const seen = await Promise.all(
      ["b", "c"].map((id) =>
        callWithContext(
          ctx(id),
          // Both arguments reach the handler on the carried path too (storage.run passes them on).
          async (prefix: string, suffix: string) => {
            await nextTurn();
            return `${prefix}${currentContext()?.requestId}${suffix}`;
          },
          "<",
          ">",
        ),
      ),
    );
    assert.deepEqual(seen, ["<b>", "<c>"]);
    assert.equal(run.mock.callCount(), 2);
  } finally {
    run.mock.restore();
  }
  assert.equal(currentContext(), undefined, "after the requests, none is current");
});

test("runWithContext carries the context and its deadline across awaits", async () => {
  const c = ctx("d", 50);
  const deadline = await runWithContext(c, async () => {
    await nextTurn();
    return currentDeadline();
  });
  assert.equal(deadline, c.deadline);
});

for (const [how, env] of [
  ["calls useRequestContext()", { CONTEXT_APP_CARRY: "1" }],
  ["creates a cache", { CONTEXT_APP_CACHE: "1" }],
  ["opens a database", { CONTEXT_APP_DB: "1" }],
] as const) {
  test(`served: an app that ${how} at start-up reads its request id after an await from the first request`, async () => {
    const hf = await startHoldfast(join(FIXTURES, "context-app.mjs"), { workers: 1, env });
    try {
      const r = await fetch(`${hf.appUrl}/`, { headers: { "x-request-id": "first-1" } });
      assert.deepEqual(await r.json(), { sync: "first-1", afterAwait: "first-1" });
    } finally {
      assert.equal(await hf.stop(), 0);
    }
  });
}

test("served: with neither, the request that asks first sees its id only synchronously, and every later one across awaits", async () => {
  const hf = await startHoldfast(join(FIXTURES, "context-app.mjs"), { workers: 1 });
  try {
    const first = await fetch(`${hf.appUrl}/`, { headers: { "x-request-id": "first-2" } });
    assert.deepEqual(await first.json(), { sync: "first-2", afterAwait: null });
    const second = await fetch(`${hf.appUrl}/`, { headers: { "x-request-id": "second-2" } });
    assert.deepEqual(await second.json(), { sync: "second-2", afterAwait: "second-2" });
  } finally {
    assert.equal(await hf.stop(), 0);
  }
});
