// With no settings, `holdfast serve` logs to standard output and creates nothing in the working directory
// except the database the app uses, whose path the banner prints (the demo's embedded SQLite).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { CLI, FIXTURES, eventually } from "./support/holdfast-process.js";
import { tempDir } from "./support/temp-dir.js";

const DEMO = new URL("../examples/notes/app.js", import.meta.url).pathname;

/** process.env without any HOLDFAST_* setting, so the defaults are what is tested. */
function defaultsOnly(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("HOLDFAST_")));
}

async function serveWithDefaults(app: string, body: (o: { cwd: string; out: () => string; appUrl: string }) => Promise<void>): Promise<void> {
  const cwd = realpathSync(tempDir("hf-defaults-"));
  const child = spawn(process.execPath, [CLI, "serve", app, "--port", "0", "--admin-port", "0", "--workers", "1"], {
    cwd,
    env: defaultsOnly(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  child.stderr.on("data", (d) => {
    err += d;
  });
  const exited = new Promise((r) => child.once("exit", r));
  try {
    await eventually(() => /logs: .*\n/.test(out) || child.exitCode !== null, 20_000, `the banner (stderr: ${err})`);
    assert.equal(child.exitCode, null, err);
    const appUrl = (/app: +(http:\/\/\S+)/.exec(out)?.[1] ?? "").replace(/\/$/, "");
    await body({ cwd, out: () => out, appUrl });
  } finally {
    child.kill("SIGTERM");
    await exited;
  }
}

test("the demo prints its database path, logs JSON lines to standard output and writes no ./logs", async () => {
  await serveWithDefaults(DEMO, async ({ cwd, out, appUrl }) => {
    assert.match(out(), new RegExp(`db: +sqlite:${cwd.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/data/app\\.db`));
    assert.match(out(), /logs: +standard output \(JSON lines; set log\.file or --log-file for a file\)/);
    const created = await fetch(`${appUrl}/api/notes`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ title: "defaults" }),
    });
    assert.equal(created.status, 201);
    await eventually(
      () =>
        out()
          .split("\n")
          .some((l) => l.startsWith("{") && (JSON.parse(l) as { event?: string }).event === "worker.start"),
      10_000,
      "a JSON log line on stdout",
    );
    assert.ok(existsSync(join(cwd, "data", "app.db")), "the printed database exists");
    assert.deepEqual(readdirSync(cwd).sort(), ["data"]);
  });
});

test("an app that never uses ctx.db leaves the working directory empty", async () => {
  await serveWithDefaults(join(FIXTURES, "basic.mjs"), async ({ cwd, appUrl }) => {
    assert.equal((await fetch(`${appUrl}/`)).status, 200);
    assert.deepEqual(readdirSync(cwd), []);
  });
});
