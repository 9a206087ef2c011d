import assert from "node:assert/strict";
import { test } from "node:test";
import { runRule } from "../analyze.js";
import { datasetFromLines } from "../dataset-from-lines.js";
import { holdfastLine, nginxAccessLine } from "../recorded-lines.js";
import { sqliteLock } from "./sqlite-lock.js";

const t0 = Date.UTC(2026, 10, 24, 14, 2, 0);

test("503s right after db.locked events that waited the busy timeout", () => {
  const app = [holdfastLine(t0, "db.locked", { waitedMs: 5000, path: "/srv/app/data/app.db" })];
  const access = [nginxAccessLine({ t: t0 + 300, status: 503, urt: 5.2 })];
  const [f] = runRule(sqliteLock, datasetFromLines({ access, app }));
  assert.equal(f?.explains, 1);
  assert.match(f?.evidence.summary ?? "", /Longest wait 5000 ms/);
});

test("'database is locked' from a Python stack", () => {
  const app = ["2026-11-24 14:02:05,120 ERROR app.views: sqlite3.OperationalError: database is locked"];
  assert.equal(runRule(sqliteLock, datasetFromLines({ app }))[0]?.id, "sqlite-lock");
});

test("an instant lock error is not contention (see sqlite-deferred-busy)", () => {
  assert.deepEqual(runRule(sqliteLock, datasetFromLines({ app: [holdfastLine(t0, "db.locked", { waitedMs: 0 })] })), []);
});

test("the app answering 503 after its 1 s busy timeout (nginx waits 10 s): the fix keeps 1 s instead of raising it to 5 s", () => {
  const access: string[] = [];
  const app: string[] = [];
  for (let k = 0; k < 5; k++) {
    const start = t0 + k * 4000;
    access.push(nginxAccessLine({ t: start + 1016, status: 503, rt: 1.016, urt: 1.016, us: "503", method: "POST", path: "/api/items" }));
    app.push(
      `${new Date(start + 1010).toISOString().replace("T", " ").replace("Z", "").replace(".", ",")} ERROR items: POST /api/items failed\nTraceback (most recent call last):\n  File "/srv/app.py", line 140, in do_POST\nsqlite3.OperationalError: database is locked`,
    );
  }
  const [f] = runRule(sqliteLock, datasetFromLines({ access, app: app.flatMap((a) => a.split("\n")), timeouts: { proxyReadTimeout: 10_000 } }));
  assert.equal(f?.explains, 5);
  assert.match(f?.fix.summary ?? "", /already gives up on the lock before the proxy does .*≈ 1 s/);
  assert.match(f?.fix.stack?.lines ?? "", /timeout=1\)/);
  assert.doesNotMatch(f?.fix.stack?.lines ?? "", /timeout=5\)/);
});
