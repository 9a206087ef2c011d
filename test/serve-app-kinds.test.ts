// holdfast serves whatever app a user brings: listener, Express, Fastify, Hono, Koa, or a defineApp factory in TypeScript.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { FIXTURES, startHoldfast } from "./support/holdfast-process.js";

for (const kind of ["express", "fastify", "hono", "koa"]) {
  test(`a ${kind} app is served as it is`, async () => {
    const hf = await startHoldfast(join(FIXTURES, `${kind}-app.mjs`), { workers: 1 });
    try {
      const r = await fetch(`${hf.appUrl}/`);
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { kind });
      assert.ok(r.headers.get("x-request-id"));
      if (kind === "hono") {
        const e = await fetch(`${hf.appUrl}/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ a: 1 }) });
        assert.deepEqual(await e.json(), { kind: "hono", got: { a: 1 } });
      }
    } finally {
      assert.equal(await hf.stop(), 0);
    }
  });
}

test("a TypeScript defineApp factory gets its context (config, log, cache) and is served", async () => {
  const hf = await startHoldfast(join(FIXTURES, "factory-app.ts"), { workers: 1 });
  try {
    const r = await fetch(`${hf.appUrl}/`);
    assert.deepEqual(await r.json(), { kind: "factory", workers: 1, cached: 1 });
    const again = await fetch(`${hf.appUrl}/`);
    assert.deepEqual(await again.json(), { kind: "factory", workers: 1, cached: 1 }, "ctx.cache served the second call");
    await hf.waitForLog((l) => l.event === "fixture.factory");
  } finally {
    assert.equal(await hf.stop(), 0);
  }
});

test("a module that exports something else stops start-up with a message naming what is supported", async () => {
  await assert.rejects(
    startHoldfast(join(FIXTURES, "bad-export.mjs"), { workers: 1 }),
    /exported an object with keys \[hello\], which holdfast cannot serve\. Export one of: a \(req, res\) request listener, an Express\/Koa\/Fastify\/Hono app/,
  );
});
