// docs/cache.md documents every createCache option and every status() field the code has.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { CACHE_DEFAULTS } from "./create-cache.js";
import { createCache } from "./index.js";

const doc = readFileSync(new URL("../../docs/cache.md", import.meta.url), "utf8");

test("docs/cache.md has a heading for every createCache option, with its default", () => {
  for (const [key, def] of [...Object.entries(CACHE_DEFAULTS), ["log", undefined] as const]) {
    const section = doc.split(new RegExp(`^### \`${key}\`$`, "m"))[1];
    assert.ok(section, `option ${key} has no "### \`${key}\`" heading in docs/cache.md`);
    if (typeof def === "number") {
      const body = section.split(/^##/m)[0] ?? "";
      assert.ok(body.includes(`\`${def}\``), `docs/cache.md does not give ${key}'s default ${def}`);
    }
  }
});

test("docs/cache.md explains every status() field", async () => {
  const cache = createCache();
  for (const key of Object.keys(cache.status())) {
    assert.ok(doc.includes(`| \`${key}\` |`), `status().${key} is not in the docs/cache.md table`);
  }
  await cache.close();
});
