// `holdfast serve` on PostgreSQL checks workers × db.pool.max against the server's max_connections
// once at start-up and warns, with the numbers and the fix, when one instance alone could exhaust it.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { connectionBudgetWarning, readServerConnectionLimits } from "../../src/db/postgres/index.js";
import { FIXTURES, startHoldfast } from "../support/holdfast-process.js";
import { eventually } from "../support/wait.js";
import { PG_URL, requirePostgres } from "../support/postgres.js";

test("the arithmetic against the real server: what fits passes, what cannot fit is named", async (t) => {
  if (!(await requirePostgres(t))) return;
  const limits = await readServerConnectionLimits(PG_URL);
  assert.ok(limits, "the limits were read");
  assert.ok(limits.maxConnections > 0 && limits.reserved >= 0 && limits.inUse >= 1);
  assert.equal(connectionBudgetWarning(limits, 1, 1), undefined);
  const w = connectionBudgetWarning(limits, 4, limits.maxConnections);
  assert.ok(w);
  assert.match(w, new RegExp(`4 workers × db.pool.max ${limits.maxConnections} = ${4 * limits.maxConnections} PostgreSQL connections`));
  assert.match(w, new RegExp(`allows ${limits.maxConnections} \\(max_connections\\)`));
  assert.equal(
    await readServerConnectionLimits("postgres://postgres@127.0.0.1:1/test", 500),
    undefined,
    "an unreachable server gives no figures (the pool reports it)",
  );
});

test("holdfast serve warns at start-up when workers × db.pool.max exceeds max_connections", async (t) => {
  if (!(await requirePostgres(t))) return;
  const hf = await startHoldfast(join(FIXTURES, "basic.mjs"), { env: { HOLDFAST_DB_URL: PG_URL, HOLDFAST_DB_POOL_MAX: "1000" }, workers: 2 });
  t.after(() => hf.stop());
  await eventually(() => /max_connections/.test(hf.stderr()), 15_000, "the connection-budget warning").catch(() => undefined);
  assert.match(
    hf.stderr(),
    /warning: this instance may open 2 workers × db\.pool\.max 1000 = 2000 PostgreSQL connections, but the server allows \d+ \(max_connections\)/,
  );
  assert.match(hf.stderr(), /fix: lower db\.pool\.max to at most \d+/);
});
