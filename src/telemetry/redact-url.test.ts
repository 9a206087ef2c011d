// The one URL redactor hides a password in every position, and every in-process place that prints a URL uses it.
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { test } from "node:test";
import pino from "pino";
import { createCache } from "../cache/index.js";
import { sqliteUrlProblem } from "../config/index.js";
import { parseDatabaseUrl } from "../db/index.js";
import { openPostgres } from "../db/postgres/index.js";
import { runDoctor } from "../doctor/index.js";
import { runLoad } from "../load/index.js";
import { redactUrl } from "./index.js";

const SECRETS = ["pwUser", "pwQuery", "pwKey", "pwFrag"];
/** The same URL shape with a secret in each position: userinfo, ?password=, another secret query key, a fragment. */
const withSecrets = (scheme: string, host = "db.internal:5432/app") =>
  `${scheme}://app:pwUser@${host}?password=pwQuery&sslmode=disable&api_key=pwKey#access_token=pwFrag`;
const clean = (where: string, text: string) => {
  for (const s of SECRETS) assert.ok(!text.includes(s), `${where} shows ${s}: ${text}`);
};

test("each position of a secret in a URL is replaced by ***, and what is not secret stays readable", () => {
  assert.equal(redactUrl(withSecrets("postgres")), "postgres://app:***@db.internal:5432/app?password=***&sslmode=disable&api_key=***#***");
  assert.equal(
    redactUrl("postgres://app@db/x?sslpassword=a&token=b&application_name=web"),
    "postgres://app@db/x?sslpassword=***&token=***&application_name=web",
  );
  assert.equal(redactUrl("redis://:pwUser@10.0.0.5:6379/1"), "redis://:***@10.0.0.5:6379/1");
  // A bare userinfo outside PostgreSQL is a token (redis://token@h, http://token@h).
  assert.equal(redactUrl("redis://pwUser@10.0.0.5:6379"), "redis://***@10.0.0.5:6379");
  assert.equal(redactUrl("postgres://app@db/x"), "postgres://app@db/x");
  assert.equal(redactUrl("sqlite:./data/app.db"), "sqlite:./data/app.db");
  assert.equal(redactUrl("redis://127.0.0.1:6379/0"), "redis://127.0.0.1:6379/0");
  // With nothing to hide, the URL comes back exactly as written (no "/" added, no query re-encoded).
  assert.equal(redactUrl("http://127.0.0.1:9464"), "http://127.0.0.1:9464");
  assert.equal(redactUrl("postgres://app@db/x?application_name=a b"), "postgres://app@db/x?application_name=a b");
});

test("a URL that does not parse keeps nothing that may be a secret", () => {
  // Reserved characters in a password break parsing, or make the parser read it as a port and a path or fragment.
  for (const url of ["postgres://app:pw/User@db/x", "postgres://app:12#pwUser@db/x", "postgres://app:pw?User@db/x", "postgres://app:pwUser@[bad/x"]) {
    const shown = redactUrl(url);
    assert.ok(!shown.includes("User"), `${url} → ${shown}`);
    assert.match(shown, /^postgres:\/\/\*\*\*@/);
  }
  assert.equal(redactUrl("host=db user=app password=pwUser dbname=x"), "host=db user=app password=*** dbname=x");
});

test("every in-process place that prints a URL hides its secrets", async () => {
  const url = withSecrets("postgres", "127.0.0.1:1/app");
  const unknown = withSecrets("mysql");
  const thrown = (fn: () => unknown): string => {
    try {
      fn();
    } catch (err) {
      return (err as Error).message;
    }
    assert.fail("expected an error");
  };
  const parseError = thrown(() => parseDatabaseUrl(unknown));
  assert.match(parseError, /mysql:\/\/app:\*\*\*@/);
  clean("parseDatabaseUrl's error", parseError);
  clean(
    "openPostgres' error",
    thrown(() => openPostgres(unknown)),
  );

  const db = openPostgres(url, { pool: { max: 1, acquireTimeout: 500 } });
  try {
    const status = JSON.stringify(db.status());
    assert.match(status, /postgres:\/\/app:\*\*\*@127\.0\.0\.1:1/);
    clean("Database.status()", status);
    clean("JSON of the database object", JSON.stringify(db));
    const err = (await db.query("select 1").catch((e: unknown) => e)) as Error & { code?: string };
    assert.equal(err.code, "DB_UNAVAILABLE");
    clean("the unreachable-server error", `${err.message} ${JSON.stringify(err)}`);
  } finally {
    await db.close();
  }

  clean(
    "createCache's error",
    thrown(() => createCache({ url: withSecrets("memcached") })),
  );
  let logged = "";
  const log = pino(
    { level: "info" },
    new Writable({
      write(chunk, _enc, done) {
        logged += String(chunk);
        done();
      },
    }),
  );
  const cache = createCache({ url: withSecrets("redis", "127.0.0.1:1/0"), log, commandTimeoutMs: 100, unavailableLogIntervalMs: 1 });
  try {
    assert.equal(await cache.wrap("k", async () => 1), 1);
    const until = Date.now() + 5000;
    while (!logged.includes("cache.unavailable") && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    assert.match(logged, /"url":"redis:\/\/app:\*\*\*@127\.0\.0\.1:1\/0/);
    clean("the cache's log lines", logged);
    clean("cache.status()", JSON.stringify(cache.status()));
  } finally {
    await cache.close();
  }
});

test("the config check, the doctor and the load generator hide every secret of the URLs they are given", async () => {
  // A SQLite URL carries no password, but one written with a query still must not echo it.
  for (const url of ["sqlite:?password=pwQuery&api_key=pwKey#access_token=pwFrag", "sqlite::memory:?password=pwQuery&api_key=pwKey#access_token=pwFrag"]) {
    const problem = sqliteUrlProblem(url, 2);
    assert.ok(problem, url);
    clean("the SQLite URL check", problem);
  }

  // Port 1: nothing listens, so every probe fails with an error that quotes what it tried.
  const doctor = await runDoctor({
    db: withSecrets("postgres", "127.0.0.1:1/app"),
    admin: [withSecrets("http", "127.0.0.1:1")],
    system: false,
    progress: false,
  });
  const dataset = JSON.stringify(doctor);
  assert.match(dataset, /postgres:\/\/app:\*\*\*@127\.0\.0\.1:1/);
  assert.ok(doctor.data.probes.errors.length >= 2, dataset);
  clean("the doctor's dataset and probe errors", dataset);
  const badDb = await runDoctor({ db: withSecrets("mysql"), system: false, progress: false });
  clean("the doctor's error for a URL it cannot open", JSON.stringify(badDb));

  const load = await runLoad({ url: withSecrets("http", "127.0.0.1:1/"), rate: 5, durationMs: 200 }).then(
    (r) => JSON.stringify(r),
    (err: Error) => err.message,
  );
  assert.match(load, /"url":"http:\/\/app:\*\*\*@127\.0\.0\.1:1\//);
  clean("the load generator's result", load);
});
