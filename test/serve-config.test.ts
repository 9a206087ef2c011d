// Bad configuration stops holdfast before it starts, with an error that names the key and the fix.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { CLI, FIXTURES } from "./support/holdfast-process.js";
import { tempDir } from "./support/temp-dir.js";

const APP = join(FIXTURES, "basic.mjs");

function run(args: string[], env: Record<string, string> = {}, files: Record<string, string> = {}) {
  const cwd = tempDir("hf-cfgcli-");
  for (const [name, text] of Object.entries(files)) writeFileSync(join(cwd, name), text);
  return spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    env: { ...process.env, HOLDFAST_LOG_FILE: join(cwd, "app.log"), ...env },
    encoding: "utf8",
    timeout: 20_000,
  });
}

test("an invalid value exits 2 naming the key, the value, its origin and what is allowed", () => {
  const r = run(["serve", APP, "--port", "0", "--admin-port", "0"], { HOLDFAST_TIMEOUTS_DEADLINE: "soon" });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /timeouts\.deadline = "soon" \(from env HOLDFAST_TIMEOUTS_DEADLINE\): expected a duration such as "30s"/);
  const f = run(["serve", APP, "--port", "0"], {}, { "holdfast.config.json": JSON.stringify({ workers: 0, timeout: {} }) });
  assert.equal(f.status, 2);
  assert.match(f.stderr, /workers = 0 \(from .*holdfast\.config\.json\)/);
  assert.match(f.stderr, /unknown key timeout/);
  const flag = run(["serve", APP, "--port", "eighty"]);
  assert.equal(flag.status, 2);
  assert.match(flag.stderr, /port = "eighty" \(from flag --port\)/);
  const unknown = run(["serve", APP, "--prot", "1"]);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown option '--prot'\n\(Did you mean --port\?\)\nRun `holdfast serve --help`/);
});

test("the admin endpoint refuses a non-loopback bind without a token", () => {
  const r = run(["serve", APP, "--port", "0", "--admin-port", "0", "--admin-host", "0.0.0.0"]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /admin\.host = "0\.0\.0\.0" is not a loopback address and admin\.token is not set/);
});

test("holdfast config prints each value's origin and flags a timeout budget that contradicts the proxy", () => {
  const r = run(
    ["config", "--port", "8080"],
    { HOLDFAST_PROXY_IDLE_TIMEOUT: "75s" },
    { "holdfast.config.json": JSON.stringify({ timeouts: { deadline: "90s" } }) },
  );
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, /port\s+8080\s+flag --port/);
  assert.match(r.stdout, /proxy\.idleTimeout\s+75s\s+env HOLDFAST_PROXY_IDLE_TIMEOUT/);
  assert.match(r.stdout, /timeouts\.deadline\s+90s\s+.*holdfast\.config\.json/);
  assert.match(r.stdout, /keep-alive timeout 65s is not above the proxy's upstream idle timeout 75s/);
  assert.match(r.stdout, /Request deadline 90s is not below the proxy read timeout 60s/);
  const ok = run(["config"]);
  assert.equal(ok.status, 0);
  assert.match(ok.stdout, /Timeout budget: the layers agree/);
});

test("an empty SQLite path and an in-memory SQLite with several workers are refused by serve and by holdfast config", () => {
  const empty = run(["serve", APP, "--port", "0", "--admin-port", "0", "--workers", "1", "--db", "sqlite:"]);
  assert.equal(empty.status, 2, empty.stderr);
  assert.match(empty.stderr, /db\.url = "sqlite:" names no database file/);
  const memory = run(["serve", APP, "--port", "0", "--admin-port", "0", "--workers", "2", "--db", "sqlite::memory:"]);
  assert.equal(memory.status, 2, memory.stderr);
  assert.match(memory.stderr, /"sqlite::memory:" with 2 workers/);
  const shown = run(["config", "--workers", "2", "--db", "sqlite:"]);
  assert.equal(shown.status, 1, shown.stderr);
  assert.match(shown.stdout, /ERROR {2}db\.url = "sqlite:" names no database file/);
  const json = run(["config", "--json", "--workers", "3", "--db", "sqlite::memory:"]);
  assert.match((JSON.parse(json.stdout) as { errors: string[] }).errors.join(""), /with 3 workers/);
});

test('HOLDFAST_PORT="" stops serve instead of listening on a random port; a misspelt variable is named with the closest key', () => {
  const empty = run(["serve", APP, "--admin-port", "0", "--workers", "1"], { HOLDFAST_PORT: "" });
  assert.equal(empty.status, 2, empty.stdout);
  assert.match(empty.stderr, /HOLDFAST_PORT is set but empty\. Unset it to use its default \(3000\)/);
  const typo = run(["config"], { HOLDFAST_TIMEOUT_DEADLINE: "5s" });
  assert.equal(typo.status, 0, typo.stderr);
  assert.match(typo.stderr, /warning: HOLDFAST_TIMEOUT_DEADLINE is not a holdfast setting and was ignored\. Did you mean HOLDFAST_TIMEOUTS_DEADLINE/);
  const off = run(["config"], { HOLDFAST_TIMEOUTS_HEARTBEAT: "off" });
  assert.match(off.stdout, /timeouts\.heartbeat\s+off\s+env HOLDFAST_TIMEOUTS_HEARTBEAT/);
  const zero = run(["config"], { HOLDFAST_TIMEOUTS_HEARTBEAT: "0" });
  assert.equal(zero.status, 2);
  assert.match(zero.stderr, /0 would switch the stuck-worker watchdog off\. Write "off"/);
});
