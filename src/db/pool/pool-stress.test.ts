// Randomised load on the pool's bookkeeping: failing creates, broken returns, failed checks,
// short deadlines and aborted requests all at once. Whatever happens, the invariants hold.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Deadline, runWithContext } from "../../context/index.js";
import { Pool } from "./index.js";
import { setTimeout as sleep } from "node:timers/promises";

/** Deterministic PRNG (mulberry32) so a failure reproduces. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Seeds 1-2 overload the pool (hand-offs, timeouts, full queue); seed 3 leaves it idle between borrows (checks on borrow).
for (const [seed, holdMs] of [
  [1, 25],
  [2, 25],
  [3, 5],
]) {
  test(`seed ${seed}, hold ≤ ${holdMs} ms: 400 callers against max 4 — never more than max lent, every caller settles, counts add up`, async (t) => {
    const random = rng(seed);
    let lent = 0;
    let peak = 0;
    let open = 0;
    let checks = 0;
    const pool = new Pool<{ id: number }>({
      create: async () => {
        await sleep(random() * 5);
        if (random() < 0.15) throw new Error("connect failed");
        open++;
        return { id: open };
      },
      destroy: async () => {
        await sleep(random() * 3);
        open--;
      },
      validate: () => {
        checks++;
        return random() > 0.1;
      },
      max: 4,
      min: 1,
      acquireTimeout: 150,
      maxWaiting: 60,
      validateAfterIdle: 0,
      maxLifetime: 80,
      idleTimeout: 40,
      createRetryDelay: 5,
      createRetryMaxDelay: 20,
    });
    const codes = new Map<string, number>();
    let longestWait = 0;
    const waited = (t0: number) => {
      longestWait = Math.max(longestWait, performance.now() - t0);
    };
    const caller = async (i: number) => {
      await sleep(random() * 800);
      const ac = new AbortController();
      const ctx = { requestId: `r${i}`, deadline: Deadline.after(random() < 0.3 ? 20 + random() * 60 : 1000), signal: ac.signal };
      if (random() < 0.05) setTimeout(() => ac.abort(new Error("client gone")), random() * 30);
      const t0 = performance.now();
      try {
        const lease = await runWithContext(ctx, () => pool.acquire());
        waited(t0);
        lent++;
        peak = Math.max(peak, lent);
        await sleep(random() * holdMs);
        lent--;
        if (random() < 0.1) lease.destroy(new Error("broken"));
        else lease.release();
        codes.set("ok", (codes.get("ok") ?? 0) + 1);
      } catch (err) {
        waited(t0);
        const code = (err as { code?: string }).code ?? "UNCODED";
        codes.set(code, (codes.get(code) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 400 }, (_, i) => caller(i)));
    assert.ok(peak <= 4, `peak lent ${peak}`);
    // Every acquire is bounded by acquireTimeout (150 ms) or its deadline; the rest is slack for a loaded 2-core machine.
    // Generous: this detects a caller left hanging, not a slow machine (timers lag on a loaded 2-core box).
    assert.ok(longestWait < 5000, `an acquire took ${Math.round(longestWait)} ms`);
    assert.equal(pool.waiting, 0);
    assert.equal(pool.busy, 0, "nothing left lent or being checked");
    for (const code of codes.keys()) {
      assert.ok(["ok", "POOL_TIMEOUT", "POOL_QUEUE_FULL", "DB_UNAVAILABLE", "DEADLINE_EXCEEDED"].includes(code), `unexpected ${code}`);
    }
    assert.ok((codes.get("ok") ?? 0) > 0, "some callers were served");
    const s = pool.status();
    t.diagnostic(
      `outcomes ${JSON.stringify(Object.fromEntries(codes))}; longest acquire ${Math.round(longestWait)} ms; creates ${s.creates}, createErrors ${s.createErrors}, checks ${checks}, validationFailures ${s.validationFailures}`,
    );
    assert.equal(s.creates - s.destroys, s.size, "every opened resource is either open or was destroyed");
    if (holdMs < 10) assert.ok(checks > 0, "the check-on-borrow path was exercised");
    await pool.close();
    assert.equal(open, 0, "close() closed every resource");
  });
}
