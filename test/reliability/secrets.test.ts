// Secrets never leave holdfast: a password in every position of the database and cache URLs and the admin
// token are fed to a running instance and to every command that prints a URL, and none of them shows up in
// /status, /metrics, /events, the logs, the terminal, `holdfast config` or any process's command line.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { CLI, FIXTURES, eventually, startHoldfast } from "../support/holdfast-process.js";
import { closedPort } from "../support/ports.js";
import { PG_URL, requirePostgres } from "../support/postgres.js";

const USERINFO = "pwUserinfo7f3a";
const QUERY = "pwQuery9c1e";
const OTHER_KEY = "pwApiToken4b2d";
const CACHE = "pwCache8e5f";
const TOKEN = "adminToken-2f9c41d7e0";
const SECRETS = [USERINFO, QUERY, OTHER_KEY, CACHE, TOKEN];

/** The test database's URL with a secret in each position a URL can carry one. */
function secretDbUrl(): string {
  const u = new URL(PG_URL);
  u.password = USERINFO;
  u.searchParams.set("password", QUERY);
  u.searchParams.set("api_token", OTHER_KEY);
  return u.toString();
}

function assertClean(where: string, text: string): void {
  for (const s of SECRETS) assert.ok(!text.includes(s), `${where} shows a secret (${s}):\n${text.slice(0, 4000)}`);
}

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, encoding: "utf8", timeout: 30_000 });
  return { ...r, all: `${r.stdout}\n${r.stderr}` };
}

test("no secret reaches /status, /metrics, /events, the logs, the terminal or a command line of a running instance", async (t) => {
  if (!(await requirePostgres(t))) return;
  const cacheUrl = `redis://:${CACHE}@127.0.0.1:${await closedPort()}/0`;
  const hf = await startHoldfast(join(FIXTURES, "db-and-cache.mjs"), {
    args: ["--db", secretDbUrl()],
    env: { HOLDFAST_ADMIN_TOKEN: TOKEN, HOLDFAST_CACHE_URL: cacheUrl, HOLDFAST_LOG_LEVEL: "debug", HOLDFAST_LOG_REQUESTS: "all" },
    workers: 2,
  });
  const auth = { authorization: `Bearer ${TOKEN}` };
  const events = new AbortController();
  try {
    let streamed = "";
    const stream = fetch(`${hf.adminUrl}/events`, { headers: auth, signal: events.signal }).then(async (r) => {
      assert.equal(r.status, 200);
      for await (const chunk of r.body as AsyncIterable<Uint8Array>) streamed += Buffer.from(chunk).toString("utf8");
    });
    stream.catch(() => {});
    for (let i = 0; i < 4; i++) assert.equal((await fetch(`${hf.appUrl}/`)).status, 200);
    assert.equal((await fetch(`${hf.appUrl}/fail`)).status, 500);

    // Workers report their pool with the next heartbeat: wait until /status carries the (redacted) URL.
    const status = await eventually(
      async () => {
        const text = await (await fetch(`${hf.adminUrl}/status`, { headers: auth })).text();
        return /postgres:\/\/[^"]*:\*\*\*@/.test(text) && text;
      },
      15_000,
      "the database URL in /status",
    );
    assertClean("/status", status);
    const metrics = await fetch(`${hf.adminUrl}/metrics`, { headers: auth });
    assert.equal(metrics.status, 200);
    assertClean("/metrics", await metrics.text());

    // A cache outage and a failed query are logged with their URLs; wait for both before reading the log.
    await hf.waitForLog((l) => l.event === "cache.unavailable" && typeof l.url === "string" && l.url.includes("***"));
    await hf.waitForLog((l) => l.event === "request" && l.status === 500);
    assertClean("the log file", readFileSync(hf.logFile, "utf8"));
    await eventually(() => streamed.length > 0, 10_000, "an /events message");
    assertClean("/events", streamed);

    const workers = JSON.parse(status).workers as Array<{ pid: number }>;
    assert.equal(workers.length, 2);
    for (const pid of [hf.child.pid as number, ...workers.map((w) => w.pid)]) {
      assertClean(`/proc/${pid}/cmdline`, readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " "));
    }
  } finally {
    events.abort();
    await hf.stop();
  }
  assertClean("serve's standard output", hf.stdout());
  assertClean("serve's standard error", hf.stderr());
});

test("holdfast config, db, doctor, load and monitor print URLs and settings without their secrets", async (t) => {
  const env = { HOLDFAST_ADMIN_TOKEN: TOKEN, HOLDFAST_CACHE_URL: `redis://:${CACHE}@127.0.0.1:6379/0` };
  const text = cli(["config", "--db", secretDbUrl()], env);
  assert.match(text.stdout, /db\.url\s+postgres:\/\/\S*:\*\*\*@\S*password=\*\*\*&api_token=\*\*\*/);
  assert.match(text.stdout, /admin\.token\s+\[hidden\]/);
  assertClean("holdfast config", text.all);
  const json = cli(["config", "--json", "--db", secretDbUrl()], env);
  assert.equal(JSON.parse(json.stdout).settings.find((s: { path: string }) => s.path === "cache.url").value, "redis://:***@127.0.0.1:6379/0");
  assertClean("holdfast config --json", json.all);

  const short = cli(["config"], { HOLDFAST_ADMIN_TOKEN: "adminToken-2f9" });
  assert.equal(short.status, 2);
  assert.match(short.stderr, /admin\.token = "\[hidden\]" \(from env HOLDFAST_ADMIN_TOKEN\): admin\.token must be at least 16 characters/);
  assert.ok(!short.all.includes("adminToken-2f9"), short.all);

  const badDb = cli(["config", "--db", `mysql://u:${USERINFO}@h/db?password=${QUERY}&api_token=${OTHER_KEY}`]);
  assertClean("holdfast config with a URL of no known kind", badDb.all);
  const badScheme = cli(["db", "status", `mysql://u:${USERINFO}@h/db?password=${QUERY}&api_token=${OTHER_KEY}`]);
  assert.equal(badScheme.status, 2);
  assertClean("holdfast db status (unknown scheme)", badScheme.all);

  const unreachable = new URL(secretDbUrl());
  unreachable.port = String(await closedPort());
  const down = cli(["db", "status", unreachable.toString()]);
  assert.equal(down.status, 1, down.all);
  assertClean("holdfast db status (server down)", down.all);
  const doctorDown = cli(["doctor", "--json", "--skip-system", "--db", unreachable.toString(), "--admin", `http://u:${TOKEN}@127.0.0.1:${await closedPort()}`]);
  assertClean("holdfast doctor (server down)", doctorDown.all);
  assert.match(doctorDown.stdout, /admin http:\/\/u:\*\*\*@127\.0\.0\.1/);

  const closed = await closedPort();
  // Every position at once: userinfo, a secret query key and the fragment.
  const load = cli(["load", `http://u:${USERINFO}@127.0.0.1:${closed}/?token=${TOKEN}&page=1#sig=${OTHER_KEY}`, "--duration", "1s", "--rate", "5"]);
  assert.match(load.stdout, /\?token=\*\*\*&page=1/);
  assertClean("holdfast load", load.all);
  const monitor = cli(["monitor", "--once", "--interval", "1s", "--admin", `http://:${TOKEN}@127.0.0.1:${closed}/?token=${QUERY}#sig=${OTHER_KEY}`]);
  assert.match(monitor.stdout, /DOWN/);
  assertClean("holdfast monitor (instance down)", monitor.all);
  const badAdmin = cli(["monitor", "--once", "--admin", `http://u:${TOKEN}@[bad`]);
  assert.equal(badAdmin.status, 2);
  assertClean("holdfast monitor (unparseable --admin)", badAdmin.all);

  if (!(await requirePostgres(t))) return;
  for (const args of [
    ["db", "status", secretDbUrl()],
    ["db", "status", "--json", secretDbUrl()],
    ["doctor", "--skip-system", "--db", secretDbUrl()],
  ]) {
    const r = cli(args);
    assert.equal(r.status, 0, r.all);
    if (args[0] === "db") assert.match(r.stdout, /postgres:\/\/\S*:\*\*\*@/);
    assertClean(`holdfast ${args.join(" ")}`, r.all);
  }
});
