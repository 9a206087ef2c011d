// A project made by `npm init -y` is CommonJS ("type": "commonjs" from npm 11, no "type" before):
// the README's five-minute example runs there as written, and CommonJS apps are served too.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { startHoldfast } from "./support/holdfast-process.js";
import { installedProject } from "./support/installed-project.js";

/** The README's example, read from README.md so the two cannot drift: its file name, code and serve command. */
function readmeExample(): { file: string; code: string; serveArgs: string[] } {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const section = readme.split(/^## /m).find((s) => s.startsWith("Five minutes")) ?? assert.fail("README.md has no '## Five minutes' section");
  const code = /```js\n([\s\S]*?)```/.exec(section)?.[1] ?? assert.fail("no ```js block in the Five minutes section");
  const file = /^\/\/ (\S+) —/.exec(code)?.[1] ?? assert.fail("the example's first line names its file: // app.mjs — …");
  const serve = /npx holdfast serve (.*?)\s+#/.exec(section)?.[1] ?? assert.fail("no `npx holdfast serve` line in the Five minutes section");
  return { file, code, serveArgs: serve.split(/\s+/) };
}

for (const type of ["commonjs", undefined] as const) {
  test(`the README example runs as written in an npm init -y project (${type ? `"type": "${type}"` : 'no "type"'})`, async () => {
    const { file, code, serveArgs } = readmeExample();
    assert.equal(serveArgs[0], file, "the serve command runs the file the example names");
    const project = installedProject({ type });
    try {
      writeFileSync(join(project.dir, file), code);
      // The README's own flags, except the fixed port 3000: this test takes a free one.
      const args = serveArgs.slice(1).filter((a, i, all) => a !== "--port" && all[i - 1] !== "--port");
      const hf = await startHoldfast(file, { cli: project.cli, dir: project.dir, workers: 1, args });
      try {
        const first = await fetch(`${hf.appUrl}/`);
        assert.equal(first.status, 200);
        assert.equal(await first.text(), "hits: 1\n");
        assert.equal(await (await fetch(`${hf.appUrl}/`)).text(), "hits: 2\n", "the example's table keeps its rows");
      } finally {
        assert.equal(await hf.stop(), 0);
      }
    } finally {
      project.remove();
    }
  });
}

test("a CommonJS app.js (module.exports, require('holdfast')) is served in a CommonJS project", async (t) => {
  const project = installedProject({ type: "commonjs" });
  try {
    writeFileSync(join(project.dir, "listener.js"), 'module.exports = (req, res) => res.end("plain commonjs\\n");\n');
    const hf = await startHoldfast("listener.js", { cli: project.cli, dir: project.dir, workers: 1 });
    try {
      const r = await fetch(`${hf.appUrl}/`);
      assert.equal(r.status, 200);
      assert.equal(await r.text(), "plain commonjs\n");
    } finally {
      assert.equal(await hf.stop(), 0);
    }
    // require() of an ES module such as holdfast needs Node 20.19+ or 22.12+ (what the docs say).
    if (!process.features.require_module) {
      t.diagnostic(`require("holdfast") skipped: Node ${process.version} cannot require ES modules`);
      return;
    }
    writeFileSync(
      join(project.dir, "app.js"),
      `const { defineApp, sql } = require("holdfast");
module.exports = defineApp(async ({ db }) => {
  await db.run("CREATE TABLE IF NOT EXISTS t (v TEXT)");
  return async (req, res) => {
    await db.run(sql\`INSERT INTO t VALUES (\${"commonjs"})\`);
    res.end(JSON.stringify(await db.get("SELECT v, COUNT(*) AS n FROM t")));
  };
});
`,
    );
    const factory = await startHoldfast("app.js", { cli: project.cli, dir: project.dir, workers: 1 });
    try {
      const r = await fetch(`${factory.appUrl}/`);
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { v: "commonjs", n: 1 });
    } finally {
      assert.equal(await factory.stop(), 0);
    }
  } finally {
    project.remove();
  }
});
