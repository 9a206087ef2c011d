// What `holdfast serve` says when it cannot start (cause and next step, no stack unless --verbose),
// what its banner shows, and the one-line notices it prints on a terminal. Runs the built CLI.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { CLI, eventually, FIXTURES, startHoldfast } from "./support/holdfast-process.js";
import { tempDir } from "./support/temp-dir.js";

/** Runs `holdfast serve ...` to its exit (it is expected to fail at start-up). */
function serveUntilExit(args: string[], cwd: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, "serve", ...args], {
      cwd,
      env: { ...process.env, HOLDFAST_LOG_FILE: join(cwd, "app.log"), HOLDFAST_DB_URL: `sqlite:${join(cwd, "app.db")}` },
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const t = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`holdfast serve did not exit within 30 s:\n${out}\n${err}`));
    }, 30_000);
    child.once("exit", (code) => {
      clearTimeout(t);
      resolve({ code, out, err });
    });
  });
}

async function holdPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, port: (server.address() as { port: number }).port };
}

const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;

test("app port in use: names the port, how to find its owner and the setting to change; no raw EADDRINUSE", async () => {
  const dir = tempDir("hf-start-");
  const { server, port } = await holdPort();
  try {
    const r = await serveUntilExit([join(FIXTURES, "basic.mjs"), "--workers", "1", "--port", String(port), "--admin-port", "0"], dir);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, new RegExp(`the app port 127\\.0\\.0\\.1:${port} is already in use by another process`));
    assert.match(r.err, new RegExp(`ss -ltnp 'sport = :${port}'`));
    assert.match(r.err, /--port, HOLDFAST_PORT/);
    assert.doesNotMatch(r.err, /bind EADDRINUSE|This is a bug/);
    assert.doesNotMatch(r.err, STACK_LINE);
  } finally {
    server.close();
  }
});

test("admin port in use: a message with the next step, not a stack and 'This is a bug in holdfast'", async () => {
  const dir = tempDir("hf-start-");
  const { server, port } = await holdPort();
  try {
    const r = await serveUntilExit([join(FIXTURES, "basic.mjs"), "--workers", "1", "--port", "0", "--admin-port", String(port)], dir);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, new RegExp(`the admin port 127\\.0\\.0\\.1:${port} is already in use`));
    assert.match(r.err, /--admin-port, HOLDFAST_ADMIN_PORT/);
    assert.doesNotMatch(r.err, /This is a bug|unexpected error/);
    assert.doesNotMatch(r.err, STACK_LINE);
  } finally {
    server.close();
  }
});

test("an app whose import throws: the app's own error and where it was thrown; the stack only with --verbose", async () => {
  const dir = tempDir("hf-start-");
  const app = join(dir, "throws.mjs");
  writeFileSync(app, 'const ready = false;\nthrow new Error("settings.json is missing");\nexport default () => ready;\n');
  const r = await serveUntilExit([app, "--workers", "1", "--port", "0", "--admin-port", "0"], dir);
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /the app threw while holdfast imported it: Error: settings\.json is missing/);
  assert.ok(r.err.includes(`where: ${app}:2:7`), r.err);
  assert.doesNotMatch(r.err, STACK_LINE);
  const verbose = await serveUntilExit([app, "--workers", "1", "--port", "0", "--admin-port", "0", "--verbose"], dir);
  assert.equal(verbose.code, 1);
  assert.match(verbose.err, STACK_LINE);
  assert.ok(verbose.err.includes(`at file://${app}:2:7`), verbose.err);
});

test("a package the app imports is missing: blames the app's import, naming the package and the importing file", async () => {
  const dir = tempDir("hf-start-");
  const app = join(dir, "app.mjs");
  writeFileSync(join(dir, "routes.mjs"), 'import Redis from "no-such-redis-client";\nexport const r = Redis;\n');
  writeFileSync(app, 'import { r } from "./routes.mjs";\nexport default (req, res) => res.end(String(r));\n');
  const r = await serveUntilExit([app, "--workers", "1", "--port", "0", "--admin-port", "0"], dir);
  assert.equal(r.code, 1, r.err);
  assert.ok(r.err.includes(`${join(dir, "routes.mjs")} imports "no-such-redis-client", which is not installed`), r.err);
  assert.match(r.err, /npm install no-such-redis-client/);
  assert.doesNotMatch(r.err, /path given to `holdfast serve`/);
  assert.doesNotMatch(r.err, STACK_LINE);
});

test("the banner shows the supervisor pid, the app and admin URLs, and the config file used (or that there is none)", async () => {
  const withFile = await startHoldfast(join(FIXTURES, "basic.mjs"), { workers: 1, files: { "holdfast.config.json": JSON.stringify({ workers: 1 }) } });
  try {
    const out = withFile.stdout();
    assert.match(out, new RegExp(`pid: +${withFile.child.pid} \\(the supervisor: kill -HUP ${withFile.child.pid} reloads`));
    assert.match(out, /app: +http:\/\/127\.0\.0\.1:\d+\//);
    assert.match(out, /admin: +http:\/\/127\.0\.0\.1:\d+\/ +\(live dashboard/);
    assert.ok(out.includes(`config: ${join(withFile.dir, "holdfast.config.json")}`), out);
  } finally {
    await withFile.stop();
  }
  const without = await startHoldfast(join(FIXTURES, "basic.mjs"), { workers: 1 });
  try {
    assert.match(without.stdout(), /config: no config file; defaults \+ env/);
  } finally {
    await without.stop();
  }
});

/** `holdfast serve` under a pseudo-terminal (util-linux `script`), so stderr is a TTY as on an operator's screen. */
function serveOnTerminal(dir: string, env: Record<string, string>) {
  const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
  const cmd = [
    process.execPath,
    CLI,
    "serve",
    join(FIXTURES, "basic.mjs"),
    "--workers",
    "1",
    "--port",
    "0",
    "--admin-port",
    "0",
    "--config",
    join(dir, "hf.json"),
  ]
    .map(quote)
    .join(" ");
  const child = spawn("script", ["-qfec", cmd, "/dev/null"], {
    cwd: dir,
    env: { ...process.env, HOLDFAST_LOG_FILE: join(dir, "app.log"), HOLDFAST_DB_URL: `sqlite:${join(dir, "app.db")}`, ...env },
  });
  let screen = "";
  child.stdout.on("data", (d) => (screen += d));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return { child, screen: () => screen, exited };
}

test("on a terminal, a watchdog kill and a shedding burst are one line each on stderr; piped, they are not", async () => {
  const dir = tempDir("hf-tty-");
  writeFileSync(join(dir, "hf.json"), JSON.stringify({ admission: { mode: "fixed", limit: 1, queueSize: 0 } }));
  const term = serveOnTerminal(dir, { HOLDFAST_TIMEOUTS_HEARTBEAT: "2s" });
  try {
    await eventually(() => /app: +http:\/\/\S+/.test(term.screen()), 20_000, "banner on the terminal");
    const appUrl = (/app: +(http:\/\/\S+)/.exec(term.screen())?.[1] ?? "").replace(/\/$/, "");
    // Shedding: one slow request holds the only slot, the next ones are shed at once.
    const hold = fetch(`${appUrl}/slow?ms=3000`).then((r) => r.text());
    let shed = 0;
    // Until three are shed (a 200 means the held request has not reached the worker yet), while it is held.
    await eventually(
      async () => {
        const r = await fetch(`${appUrl}/slow?ms=1`);
        await r.text();
        if (r.status === 503) shed++;
        return shed >= 3;
      },
      2500,
      "three requests shed",
    ).catch(() => undefined);
    assert.ok(shed >= 1, "requests were shed while the only slot was held");
    await hold;
    await eventually(() => /shedding load: \d+ requests answered 503/.test(term.screen()), 10_000, "shedding line");
    // Watchdog: a route that spins the event loop past the 2 s heartbeat timeout.
    void fetch(`${appUrl}/spin?ms=60000`).catch(() => undefined);
    await eventually(() => /watchdog killed worker 1 \(pid \d+\): event loop stuck [\d.]+ s in GET \/spin/.test(term.screen()), 15_000, "watchdog line");
    const lines = term.screen().split(/\r?\n/);
    assert.equal(lines.filter((l) => l.includes("watchdog killed")).length, 1, term.screen());
    assert.equal(lines.filter((l) => l.includes("shedding load")).length, 1, term.screen());
  } finally {
    // The supervisor's pid from the banner: signalling `script` itself would not stop holdfast gracefully.
    const pid = Number(/pid: +(\d+)/.exec(term.screen())?.[1]);
    if (pid > 0) process.kill(pid, "SIGTERM");
    else term.child.kill("SIGKILL");
    await term.exited;
  }
  // The same with stderr piped: the log has the events, the terminal lines are not printed.
  const piped = await startHoldfast(join(FIXTURES, "basic.mjs"), { workers: 1, env: { HOLDFAST_TIMEOUTS_HEARTBEAT: "2s" } });
  try {
    void fetch(`${piped.appUrl}/spin?ms=60000`).catch(() => undefined);
    await piped.waitForLog((l) => l.event === "worker.timeout", 15_000);
    assert.doesNotMatch(piped.stderr(), /watchdog killed/);
  } finally {
    await piped.stop();
  }
});
