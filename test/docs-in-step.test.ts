// Reference docs that are generated from, or promised by, the code stay in step with it.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { settingsMarkdown } from "../src/cli/commands/config.js";
import { ERROR_CODES } from "../src/errors/index.js";
import { SUPERVISOR_PHASES, WORKER_PHASES } from "../src/server/lifecycle.js";

const doc = (name: string) => readFileSync(new URL(`../docs/${name}`, import.meta.url), "utf8");

test("docs/errors.md lists every error code with its HTTP status, and no code the code does not have", () => {
  const text = doc("errors.md");
  for (const [code, { status }] of Object.entries(ERROR_CODES)) {
    assert.match(text, new RegExp(`\\| \`${code}\` \\| ${status} \\|`), `${code} (${status}) missing from docs/errors.md`);
  }
  // The other way: a row for a code that was renamed or removed sends an operator looking for nothing.
  const documented = [...text.matchAll(/^\| `([A-Z][A-Z_]+)` \| \d{3} \|/gm)].map((m) => m[1]);
  assert.ok(documented.length >= 10, `codes read from the table: ${documented}`);
  for (const code of documented) assert.ok(code in ERROR_CODES, `docs/errors.md documents ${code}, which src/errors does not define`);
});

test("docs/lifecycle.md draws every supervisor and worker phase as the code lists it", () => {
  const text = doc("lifecycle.md");
  for (const p of [...SUPERVISOR_PHASES, ...WORKER_PHASES]) assert.ok(text.includes(`| \`${p.phase}\` | ${p.does} |`), `phase ${p.phase} out of step`);
});

test("docs/configuration.md is the reference generated from the schema (regenerate: holdfast config --docs > docs/configuration.md)", () => {
  assert.equal(doc("configuration.md"), settingsMarkdown());
});
