// docs/pool.md documents every db.pool setting and every status() field the code has.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { configSchema } from "../../config/index.js";
import { Pool } from "./index.js";

const doc = readFileSync(new URL("../../../docs/pool.md", import.meta.url), "utf8");

test("docs/pool.md has a heading for every db.pool setting in the config schema", () => {
  for (const key of Object.keys(configSchema.parse({}).db.pool)) {
    assert.match(doc, new RegExp(`^### \`${key}\``, "m"), `db.pool.${key} is not documented in docs/pool.md`);
  }
});

test("docs/pool.md explains every status() field", async () => {
  const pool = new Pool({ create: async () => ({}), destroy: () => {} });
  for (const key of Object.keys(pool.status())) {
    assert.ok(doc.includes(`| \`${key}\` |`), `status().${key} is not in the docs/pool.md table`);
  }
  await pool.close();
});
