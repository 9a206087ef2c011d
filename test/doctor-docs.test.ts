/** docs/doctor.md stays in step with the rules: every rule id has its catalogue entry. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { DOCTOR_RULES } from "../src/doctor/index.js";

test("every rule the doctor runs is in the catalogue of docs/doctor.md", () => {
  const doc = readFileSync(new URL("../docs/doctor.md", import.meta.url), "utf8");
  const missing = DOCTOR_RULES.map((r) => r.id).filter((id) => !doc.includes(`\`${id}\``));
  assert.deepEqual(missing, [], `add a "### \`<id>\`" entry to docs/doctor.md for: ${missing.join(", ")}`);
});
