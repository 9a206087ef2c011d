// `npm install holdfast` no longer brings pg, ioredis, tsx or pino-pretty: a feature that needs one
// stops at start with the feature, the package and the command, and works once the package is added.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { eventually, startHoldfast } from "./support/holdfast-process.js";
import { type InstalledProject, installedProject } from "./support/installed-project.js";
import { PG_URL, requirePostgres, uniqueName } from "./support/postgres.js";
import { requireBinary } from "./support/require-service.js";
import { REDIS_URL, redisUnreachable } from "./support/redis.js";

const LISTENER = 'export default (req, res) => res.end("ok\\n");\n';

let bare: InstalledProject;
before(() => {
  bare = installedProject({ type: "commonjs" });
  writeFileSync(join(bare.dir, "app.mjs"), LISTENER);
  writeFileSync(join(bare.dir, "app.ts"), 'const body: string = "ok";\nexport default (req: unknown, res: { end(s: string): void }) => res.end(body);\n');
});
after(() => bare?.remove());

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the project's CLI until it exits (at most 20 s; a start that hangs fails the test). */
function runCli(project: InstalledProject, args: string[], env: Record<string, string> = {}, cwd = project.dir): Promise<Finished> {
  const child = spawn(process.execPath, [project.cli, ...args], {
    cwd,
    env: { ...process.env, HOLDFAST_LOG_PRETTY: "never", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => {
    stdout += d;
  });
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  return new Promise((resolve) => {
    const guard = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.once("exit", (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The run failed at start with exactly one plain message naming `pkg` and the command, and no stack. */
function assertMissing(r: Finished, need: RegExp, pkg: string): void {
  assert.ok(r.code !== 0 && r.code !== null, `exit code ${r.code}; stderr:\n${r.stderr}`);
  assert.match(r.stderr, need);
  assert.ok(r.stderr.includes(`but the '${pkg}' package is not installed; it is optional, needed only for `), r.stderr);
  assert.ok(r.stderr.includes(`Run: npm install ${pkg}\n`), r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at |This is a bug|ERR_MODULE_NOT_FOUND/, "no stack, no internal error");
  assert.doesNotMatch(r.stdout, /app: +http/, "nothing was served");
}

test("a postgres:// db.url without pg: serve refuses to start and names `npm install pg`", async () => {
  const r = await runCli(bare, ["serve", "app.mjs", "--port", "0", "--admin-port", "0"], { HOLDFAST_DB_URL: PG_URL });
  assertMissing(r, /db\.url is a postgres:\/\/ URL, but the 'pg' package is not installed; it is optional, needed only for PostgreSQL databases/, "pg");
  const line = r.stderr.split("\n").find((l) => l.startsWith("holdfast: db.url")) as string;
  assert.ok(
    readFileSync(new URL("../docs/getting-started.md", import.meta.url), "utf8").includes(line),
    `docs/getting-started.md shows the message as printed:\n${line}`,
  );
});

test("holdfast db status on a postgres:// URL without pg says which package to add", async () => {
  const r = await runCli(bare, ["db", "status", PG_URL]);
  assertMissing(r, /db\.url is a postgres:\/\/ URL, but the 'pg' package/, "pg");
});

test("a redis:// cache.url without ioredis: serve refuses to start and names `npm install ioredis`", async () => {
  const r = await runCli(bare, ["serve", "app.mjs", "--port", "0", "--admin-port", "0"], { HOLDFAST_CACHE_URL: REDIS_URL });
  assertMissing(r, /cache\.url is a redis:\/\/ URL, but the 'ioredis' package is not installed; it is optional, needed only for the Redis cache/, "ioredis");
});

test("a TypeScript app without tsx: serve refuses to start and names `npm install tsx`", async () => {
  const r = await runCli(bare, ["serve", "app.ts", "--port", "0", "--admin-port", "0", "--workers", "1"]);
  assertMissing(r, /The app \S*app\.ts is TypeScript, but the 'tsx' package is not installed/, "tsx");
});

test("a holdfast.config.ts without tsx: the config is not read and the message names `npm install tsx`", async () => {
  const withConfig = installedProject({ type: "commonjs" });
  try {
    writeFileSync(join(withConfig.dir, "app.mjs"), LISTENER);
    writeFileSync(join(withConfig.dir, "holdfast.config.ts"), "export default { workers: 1 };\n");
    const r = await runCli(withConfig, ["serve", "app.mjs", "--port", "0", "--admin-port", "0"]);
    assertMissing(r, /The config file \S*holdfast\.config\.ts is TypeScript, but the 'tsx' package is not installed/, "tsx");
  } finally {
    withConfig.remove();
  }
});

test('log.pretty "always" without pino-pretty: serve refuses to start and names `npm install pino-pretty`', async () => {
  const r = await runCli(bare, ["serve", "app.mjs", "--port", "0", "--admin-port", "0", "--workers", "1"], { HOLDFAST_LOG_PRETTY: "always" });
  assertMissing(r, /log\.pretty is "always", but the 'pino-pretty' package is not installed/, "pino-pretty");
});

test("on a terminal without pino-pretty, logs stay JSON lines with one note, and the app is served", async (t) => {
  // The default (log.pretty auto) on a terminal is what a first `holdfast serve` meets: it must serve.
  const script = requireBinary(t, "script");
  if (!script) return;
  const cmd = `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(bare.cli)} serve app.mjs --port 0 --admin-port 0 --workers 2`;
  const child = spawn(script, ["-qefc", cmd, "/dev/null"], {
    cwd: bare.dir,
    env: { ...process.env, HOLDFAST_LOG_PRETTY: "auto" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  const exited = new Promise((r) => child.once("exit", r));
  try {
    const admin = await eventually(() => /admin: +(http:\/\/\S+?)\/?\s/.exec(out)?.[1], 20_000, "the start banner");
    const app = /app: +(http:\/\/\S+?)\/?\s/.exec(out)?.[1] as string;
    const r = await fetch(`${app}/`);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), "ok\n");
    await eventually(() => out.includes('"event":"worker.start"'), 10_000, "JSON log lines on the terminal");
    const notes = out.split("readable terminal logs need the 'pino-pretty' package. Run: npm install pino-pretty").length - 1;
    assert.equal(notes, 1, `the note is said once (by the supervisor, not by each worker):\n${out}`);
    const status = (await (await fetch(`${admin}/status`)).json()) as { instance: { pid: number } };
    process.kill(status.instance.pid, "SIGTERM");
    await exited;
  } finally {
    // holdfast is script's child (exec'd); a pty that closes under it would send SIGHUP, which reloads.
    if (child.exitCode === null && child.pid !== undefined) {
      const kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
      for (const pid of kids) process.kill(Number(pid), "SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000).unref())]);
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  }
});

test("with pg, ioredis, tsx and pino-pretty installed, the same features work", async (t) => {
  if (!(await requirePostgres(t))) return;
  const why = await redisUnreachable();
  if (why !== undefined) {
    const msg = `Redis unreachable at ${REDIS_URL} (${why}) — start it to run this test`;
    if (process.env.CI === "true") assert.fail(msg);
    t.skip(msg);
    return;
  }
  const full = installedProject({ type: "commonjs", optional: ["pg", "ioredis", "tsx", "pino-pretty"] });
  t.after(() => full.remove());
  const namespace = uniqueName("hf_install");
  writeFileSync(
    join(full.dir, "holdfast.config.ts"),
    `const workers: number = 1;\nexport default { workers, cache: { url: ${JSON.stringify(REDIS_URL)}, namespace: ${JSON.stringify(namespace)} } };\n`,
  );
  writeFileSync(
    join(full.dir, "app.ts"),
    `import { defineApp } from "holdfast";
export default defineApp(async ({ db, cache }) => async (_req: unknown, res: { end(s: string): void }) => {
  const row = await db.get<{ n: number }>("SELECT 40 + 2 AS n");
  const cached = await cache.wrap("answer", async () => ({ n: row?.n ?? 0 }), { ttlMs: 60_000 });
  const { backend, available } = cache.status();
  res.end(JSON.stringify({ pg: row?.n, cached, backend, available }));
});
`,
  );
  const hf = await startHoldfast("app.ts", { cli: full.cli, dir: full.dir, workers: 1, env: { HOLDFAST_DB_URL: PG_URL, HOLDFAST_LOG_PRETTY: "always" } });
  try {
    // The Redis connection opens in the background; poll until the worker has it.
    const body = await eventually(
      async () => {
        const r = await fetch(`${hf.appUrl}/`);
        assert.equal(r.status, 200, await r.clone().text());
        const b = (await r.json()) as { available: boolean };
        return b.available ? b : undefined;
      },
      10_000,
      "a response served with Redis available",
    );
    assert.deepEqual(body, { pg: 42, cached: { n: 42 }, backend: "redis", available: true });
    await eventually(() => /INFO.*worker 1 listening/.test(hf.stdout()), 10_000, "pino-pretty's readable lines on stdout");
  } finally {
    assert.equal(await hf.stop(), 0);
  }
});
