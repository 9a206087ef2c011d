// The database columns and alerts read from a real SQLite-backed app: another process holds the
// write lock, the app's writes give up with DB_LOCKED (503), and `holdfast monitor --once` fires lock-timeouts.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { test } from "node:test";
import { CLI, startHoldfast } from "./support/holdfast-process.js";
import { PG_URL, requirePostgres } from "./support/postgres.js";
import { tempDir } from "./support/temp-dir.js";

const ROOT = new URL("../", import.meta.url).pathname;
const BETTER_SQLITE3 = createRequire(import.meta.url).resolve("better-sqlite3");

/** An app that writes one row per request; a HoldfastError answers with its own status. */
const APP = `
import { defineApp, sql } from ${JSON.stringify(join(ROOT, "dist/index.js"))};
export default defineApp(async ({ db }) => {
  await db.run(sql\`CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, who TEXT)\`);
  return async (req, res) => {
    try {
      await db.run(sql\`INSERT INTO t (who) VALUES ('app')\`);
      res.end("ok");
    } catch (err) {
      res.statusCode = err.httpStatus ?? 500;
      res.end(err.code ?? "error");
    }
  };
});
`;

/** A separate process that takes SQLite's write lock and holds it until killed. */
const LOCKER = `
const Database = require(process.env.BS3);
const db = new Database(process.env.DB_PATH);
db.pragma("busy_timeout = 5000");
db.exec("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, who TEXT)");
db.exec("BEGIN IMMEDIATE");
db.prepare("INSERT INTO t (who) VALUES ('locker')").run();
console.log("locked");
setTimeout(() => {}, 60000);
`;

/** An app whose every request holds a PostgreSQL connection for 400 ms. */
const PG_APP = `
import { defineApp, sql } from ${JSON.stringify(join(ROOT, "dist/index.js"))};
export default defineApp(async ({ db }) => async (req, res) => {
  try {
    await db.query(sql\`SELECT pg_sleep(0.4)\`);
    res.end("ok");
  } catch (err) {
    res.statusCode = err.httpStatus ?? 500;
    res.end(err.code ?? "error");
  }
});
`;

/** Runs `holdfast monitor --once --json` and resolves with its exit code and output. */
function monitorOnce(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [CLI, "monitor", "--once", "--json", ...args], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    c.stdout.on("data", (d) => {
      out += d;
    });
    c.on("exit", (code) => resolve({ code, out }));
  });
}

function lock(path: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["-e", LOCKER], { env: { ...process.env, BS3: BETTER_SQLITE3, DB_PATH: path }, stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    child.stdout?.on("data", (d: Buffer) => d.toString().includes("locked") && resolve(child));
    child.once("exit", (code) => reject(new Error(`locker exited ${code}`)));
  });
}

test("SQLite writes locked out by another process: monitor shows the lock timeouts and 503s and fires lock-timeouts", async () => {
  const appDir = tempDir("hf-mon-app-");
  const appFile = join(appDir, "app.mjs");
  writeFileSync(appFile, APP);
  const dbFile = join(appDir, "app.db");
  const hf = await startHoldfast(appFile, { workers: 1, env: { HOLDFAST_DB_URL: `sqlite:${dbFile}`, HOLDFAST_DB_SQLITE_BUSY_TIMEOUT: "200ms" } });
  let locker: ChildProcess | undefined;
  try {
    const warm = await fetch(`${hf.appUrl}/`);
    assert.equal(await warm.text(), "ok");
    locker = await lock(dbFile);
    const run = new Promise<{ code: number | null; out: string }>((resolve) => {
      const c = spawn(process.execPath, [CLI, "monitor", "--once", "--json", "--admin", hf.adminUrl, "--interval", "3s", "--thresholds", "errorRate=off"], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      let out = "";
      c.stdout.on("data", (d) => {
        out += d;
      });
      c.on("exit", (code) => resolve({ code, out }));
    });
    // Writes all through the measuring window, so some land between its two scrapes however late the monitor starts.
    const statuses: number[] = [];
    let done = false;
    void run.then(() => {
      done = true;
    });
    while (!done && statuses.length < 40) {
      const r = await fetch(`${hf.appUrl}/`);
      await r.arrayBuffer();
      statuses.push(r.status);
    }
    assert.ok(statuses.length >= 4 && statuses.every((s) => s === 503), `locked writes give up with 503 DB_LOCKED: ${statuses}`);
    const { code, out } = await run;
    assert.equal(code, 1, out);
    const doc = JSON.parse(out) as {
      alerts: Array<{ rule: string; value: number; summary: string }>;
      instances: Array<{ interval: { s503PerS: number }; sqlite: { walBytes: number; lockTimeoutsTotal: number }; pool: { max: number } }>;
    };
    const alert = doc.alerts.find((a) => a.rule === "lock-timeouts");
    assert.ok(alert, JSON.stringify(doc.alerts));
    assert.ok(alert.value >= 3, `lock timeouts counted in the window: ${alert.value}`);
    assert.match(alert.summary, /SQLite lock timeouts \(DB_LOCKED\)/);
    const i = doc.instances[0];
    assert.ok(i.sqlite.lockTimeoutsTotal >= alert.value);
    assert.ok(i.sqlite.walBytes > 0, "WAL size read from the worker's database status");
    assert.ok(i.pool.max > 0, "pool figures present");
    assert.ok(i.interval.s503PerS > 0, "the 503s show in the 503 rate");
  } finally {
    locker?.kill("SIGKILL");
    await hf.stop();
  }
});

test("PostgreSQL pool of 2 under 6 concurrent 400 ms queries: monitor fires pool-utilization and pool-timeouts", async (t) => {
  if (!(await requirePostgres(t))) return;
  const appDir = tempDir("hf-mon-pg-");
  const appFile = join(appDir, "app.mjs");
  writeFileSync(appFile, PG_APP);
  const hf = await startHoldfast(appFile, {
    workers: 1,
    env: { HOLDFAST_DB_URL: PG_URL, HOLDFAST_DB_POOL_MAX: "2", HOLDFAST_DB_POOL_ACQUIRE_TIMEOUT: "150ms" },
  });
  try {
    const run = monitorOnce(["--admin", hf.adminUrl, "--interval", "3s", "--thresholds", "errorRate=off,p99=off"]);
    let done = false;
    void run.then(() => {
      done = true;
    });
    const statuses: number[] = [];
    const until = Date.now() + 10_000;
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        while (!done && Date.now() < until) {
          const r = await fetch(`${hf.appUrl}/`);
          await r.arrayBuffer();
          statuses.push(r.status);
        }
      }),
    );
    assert.ok(statuses.includes(200) && statuses.includes(503), `some queries ran, some timed out waiting for the pool: ${statuses.join(",")}`);
    const { code, out } = await run;
    assert.equal(code, 1, out);
    const doc = JSON.parse(out) as { alerts: Array<{ rule: string; value: number }>; instances: Array<{ pool: { max: number; utilization: number } }> };
    const rules = doc.alerts.map((a) => a.rule);
    assert.ok(rules.includes("pool-timeouts"), `alerts: ${rules}`);
    assert.ok(rules.includes("pool-utilization"), `alerts: ${rules} (pool ${JSON.stringify(doc.instances[0].pool)})`);
    assert.equal(doc.instances[0].pool.max, 2);
  } finally {
    await hf.stop();
  }
});
