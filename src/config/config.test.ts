import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { checkConfig, checkTimeoutBudget, listSettings, loadConfig, parseDuration } from "./index.js";
import { tempDir } from "../../test/support/temp-dir.js";

test("defaults fit a proxy with a 60 s idle timeout", async () => {
  const { config } = await loadConfig({ cwd: tempDir("hf-cfg-"), env: {} });
  assert.equal(config.timeouts.keepAlive, 65_000);
  assert.equal(config.timeouts.headers, 66_000);
  assert.equal(config.timeouts.deadline, 30_000);
  assert.equal(config.timeouts.heartbeat, 30_000);
  assert.equal(config.timeouts.graceful, 30_000);
  assert.deepEqual(checkConfig(config).warnings, []);
});

test("layers: file < env < flags, and sources are reported", async () => {
  const dir = tempDir("hf-cfg-");
  writeFileSync(join(dir, "holdfast.config.json"), JSON.stringify({ port: 4000, workers: 3, timeouts: { deadline: "10s" } }));
  const { config, sources } = await loadConfig({
    cwd: dir,
    env: { HOLDFAST_WORKERS: "5", HOLDFAST_TIMEOUTS_KEEP_ALIVE: "70s" },
    flags: { port: "4100" },
    flagNames: { port: "--port" },
  });
  assert.equal(config.port, 4100);
  assert.equal(config.workers, 5);
  assert.equal(config.timeouts.deadline, 10_000);
  assert.equal(config.timeouts.keepAlive, 70_000);
  assert.deepEqual(sources.get("port"), { flag: "--port" });
  assert.deepEqual(sources.get("workers"), { env: "HOLDFAST_WORKERS" });
  assert.deepEqual(sources.get("timeouts.deadline"), { file: join(dir, "holdfast.config.json") });
  assert.equal(sources.get("host"), "default");
});

test("an invalid value names the key, the value, its origin and what is allowed", async () => {
  const dir = tempDir("hf-cfg-");
  writeFileSync(join(dir, "holdfast.config.json"), JSON.stringify({ timeouts: { keepAlive: "soon" }, prot: 1 }));
  await assert.rejects(loadConfig({ cwd: dir, env: { HOLDFAST_PORT: "99999" } }), (err: Error & { code: string }) => {
    assert.equal(err.code, "CONFIG_INVALID");
    assert.match(err.message, /timeouts\.keepAlive = "soon" \(from .*holdfast\.config\.json\): expected a duration/);
    assert.match(err.message, /port = "99999" \(from env HOLDFAST_PORT\)/);
    assert.match(err.message, /unknown key prot/);
    return true;
  });
});

test("broken JSON and a missing --config file are reported, not thrown raw", async () => {
  const dir = tempDir("hf-cfg-");
  writeFileSync(join(dir, "holdfast.config.json"), "{ port: ");
  await assert.rejects(loadConfig({ cwd: dir, env: {} }), /is not valid JSON/);
  await assert.rejects(loadConfig({ cwd: dir, env: {}, configFile: "nope.json" }), /does not exist/);
});

test("a TypeScript config file with defineConfig loads", async () => {
  const dir = tempDir("hf-cfg-");
  writeFileSync(join(dir, "holdfast.config.ts"), `const port: number = 4321;\nexport default { port, admin: { port: 0 } };\n`);
  const { config } = await loadConfig({ cwd: dir, env: {} });
  assert.equal(config.port, 4321);
  assert.equal(config.admin.port, 0);
});

test("admin bound to a non-loopback address without a token is refused", async () => {
  const { config } = await loadConfig({ cwd: tempDir("hf-cfg-"), env: { HOLDFAST_ADMIN_HOST: "0.0.0.0" } });
  const { errors } = checkConfig(config);
  assert.equal(errors.length, 1);
  assert.match(errors[0] as string, /admin\.token/);
});

test("timeout budget flags keep-alive at or below the proxy idle timeout and a deadline past the proxy read timeout", () => {
  const v = checkTimeoutBudget({ proxyIdleTimeout: 75_000, keepAlive: 5_000, headers: 60_000, proxyReadTimeout: 15_000, deadline: 30_000 });
  const ids = v.map((x) => x.id);
  assert.ok(ids.includes("keepalive-below-proxy-idle"));
  assert.ok(ids.includes("deadline-not-below-proxy-read"));
  assert.deepEqual(checkTimeoutBudget({ proxyIdleTimeout: 60_000, keepAlive: 65_000, headers: 66_000, proxyReadTimeout: 60_000, deadline: 30_000 }), []);
});

test("every setting has a doc line and an env name", () => {
  for (const s of listSettings()) {
    assert.ok(s.doc.length > 10, `${s.path} has no doc`);
    assert.match(s.env, /^HOLDFAST_[A-Z_]+$/);
  }
  assert.equal(parseDuration("250ms"), 250);
  assert.equal(parseDuration("1.5m"), 90_000);
  assert.equal(parseDuration("abc"), undefined);
});

test("timeout budget warns when a Redis cache miss can wait more than half the deadline", () => {
  const v = checkTimeoutBudget({ deadline: 2_000, cacheWait: 1_250 });
  assert.deepEqual(
    v.map((x) => x.id),
    ["cache-wait-near-deadline"],
  );
  assert.deepEqual(checkTimeoutBudget({ deadline: 30_000, cacheWait: 1_250 }), []);
});

test("each setting's type comes from its schema, not its name (cache.ttl was listed as a size)", () => {
  const type = (p: string) => listSettings().find((s) => s.path === p)?.type;
  assert.equal(type("cache.ttl"), "duration");
  assert.equal(type("timeouts.keepAlive"), "duration");
  assert.equal(type("recycle.maxRss"), "size");
  assert.equal(type("log.requests"), 'one of "all", "errors", "off"');
  assert.equal(type("admin.enabled"), "boolean");
  assert.equal(type("workers"), '"auto" or number');
});

test('db.url "sqlite:" (no path) is refused, and so is an in-memory SQLite shared by several workers', async () => {
  const load = (env: Record<string, string>) => loadConfig({ cwd: tempDir("hf-cfg-"), env });
  for (const url of ["sqlite:", "sqlite://", "sqlite:?mode=rwc"]) {
    const { errors } = checkConfig((await load({ HOLDFAST_DB_URL: url, HOLDFAST_WORKERS: "1" })).config);
    assert.equal(errors.length, 1, url);
    assert.match(errors[0] as string, /names no database file.*separate, throw-away in-memory database in every worker.*sqlite:\.\/data\/app\.db/s);
  }
  const many = checkConfig((await load({ HOLDFAST_DB_URL: "sqlite::memory:", HOLDFAST_WORKERS: "2" })).config).errors;
  assert.match(many.join("\n"), /"sqlite::memory:" with 2 workers: each worker process would get its own in-memory database.*set workers to 1/s);
  assert.deepEqual(checkConfig((await load({ HOLDFAST_DB_URL: "sqlite::memory:", HOLDFAST_WORKERS: "1" })).config).errors, []);
});

test('an empty HOLDFAST_* variable is refused (HOLDFAST_PORT="" used to mean a random port), as are booleans and blanks for numbers', async () => {
  const cwd = tempDir("hf-cfg-");
  await assert.rejects(
    loadConfig({ cwd, env: { HOLDFAST_PORT: "" } }),
    /port: HOLDFAST_PORT is set but empty\. Unset it to use its default \(3000\), or give it a value/,
  );
  await assert.rejects(loadConfig({ cwd, env: { HOLDFAST_ADMIN_PORT: " " } }), /HOLDFAST_ADMIN_PORT is set but empty/);
  await assert.rejects(loadConfig({ cwd, env: {}, flags: { port: "" } }), /port = "" \(from flag --port\): expected a port number from 0 to 65535/);
  await assert.rejects(loadConfig({ cwd, env: {}, flags: { "recycle.maxRequests": true } }), /recycle\.maxRequests = true .*: expected a number/);
});

test('timeouts.heartbeat: "off" switches the watchdog off; 0 is refused with a message that says to write "off"', async () => {
  const cwd = tempDir("hf-cfg-");
  assert.equal((await loadConfig({ cwd, env: { HOLDFAST_TIMEOUTS_HEARTBEAT: "off" } })).config.timeouts.heartbeat, 0);
  assert.equal((await loadConfig({ cwd, env: { HOLDFAST_TIMEOUTS_HEARTBEAT: "5s" } })).config.timeouts.heartbeat, 5000);
  for (const zero of ["0", "0s", "0ms"]) {
    await assert.rejects(
      loadConfig({ cwd, env: { HOLDFAST_TIMEOUTS_HEARTBEAT: zero } }),
      /timeouts\.heartbeat = "0m?s?" \(from env HOLDFAST_TIMEOUTS_HEARTBEAT\): 0 would switch the stuck-worker watchdog off\. Write "off"/,
    );
  }
});

test("an unknown HOLDFAST_* variable is reported with the closest setting; holdfast's own variables are not", async () => {
  const cwd = tempDir("hf-cfg-");
  const { warnings } = await loadConfig({
    cwd,
    env: { HOLDFAST_TIMEOUT_DEADLINE: "5s", HOLDFAST_WORKER_ID: "1", HOLDFAST_CONFIG: "{}", HOLDFAST_TEST_PG_URL: "x", HOLDFAST_ZZZ: "1" },
  });
  assert.equal(warnings.length, 2, warnings.join("\n"));
  assert.match(
    warnings[0] as string,
    /HOLDFAST_TIMEOUT_DEADLINE is not a holdfast setting and was ignored\. Did you mean HOLDFAST_TIMEOUTS_DEADLINE \(timeouts\.deadline\)\?/,
  );
  assert.match(warnings[1] as string, /HOLDFAST_ZZZ is not a holdfast setting and was ignored\. Every variable/);
  // When the config is refused anyway, the message says which variable was ignored.
  await assert.rejects(
    loadConfig({ cwd, env: { HOLDFAST_POTR: "1", HOLDFAST_WORKERS: "0" } }),
    /Also:\n {2}- HOLDFAST_POTR .*Did you mean HOLDFAST_PORT \(port\)\?/,
  );
});

test("a config nested 10 000 levels deep is refused with a message, not a stack overflow", async () => {
  const dir = tempDir("hf-cfg-");
  writeFileSync(join(dir, "holdfast.config.json"), `${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)}`);
  await assert.rejects(loadConfig({ cwd: dir, env: {} }), (err: Error & { code?: string }) => {
    assert.equal(err.code, "CONFIG_INVALID");
    assert.match(err.message, /nests objects or lists more than 8 levels deep \(at a\.a\.a\.a\.a\.a\.a\.a\).*at most 3 levels deep/);
    return true;
  });
});

test("a bad admission.routes entry names the file or variable it came from, not (from default)", async () => {
  const dir = tempDir("hf-cfg-");
  writeFileSync(join(dir, "holdfast.config.json"), JSON.stringify({ admission: { routes: [{ path: "/x", priority: "urgent" }] } }));
  await assert.rejects(
    loadConfig({ cwd: dir, env: {} }),
    /admission\.routes\.0\.priority = "urgent" \(from .*holdfast\.config\.json\): must be one of "critical", "normal", "sheddable"/,
  );
  await assert.rejects(
    loadConfig({ cwd: dir, env: { HOLDFAST_ADMISSION_ROUTES: '[{"path":""}]' } }),
    /admission\.routes\.0\.path = "" \(from env HOLDFAST_ADMISSION_ROUTES\): must not be empty/,
  );
});

test("a config path that is a directory is refused by name", async () => {
  const dir = tempDir("hf-cfg-");
  await assert.rejects(loadConfig({ cwd: dir, env: {}, configFile: "." }), /Config file .* is a directory\. Give the path of holdfast\.config/);
});

test("a deeply nested or huge HOLDFAST_ADMISSION_ROUTES is refused with a short message", async () => {
  const cwd = tempDir("hf-cfg-");
  await assert.rejects(
    loadConfig({ cwd, env: { HOLDFAST_ADMISSION_ROUTES: `${"[".repeat(10_000)}${"]".repeat(10_000)}` } }),
    /HOLDFAST_ADMISSION_ROUTES nests lists or objects more than 8 levels deep/,
  );
  await assert.rejects(loadConfig({ cwd, env: { HOLDFAST_ADMISSION_ROUTES: JSON.stringify(["x".repeat(100_000)]) } }), (err: Error) => {
    assert.match(err.message, /admission\.routes\.0 = "xxx.*…/);
    assert.ok(err.message.length < 2000, `message of ${err.message.length} characters`);
    return true;
  });
});
