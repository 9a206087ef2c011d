// docs/monitor.md stays in step with the code: every alert rule, threshold key and CLI flag is documented.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import monitorCommand from "../src/cli/commands/monitor.js";
import { ALERT_RULES, thresholdsSchema } from "../src/monitor/index.js";

const doc = readFileSync(new URL("../docs/monitor.md", import.meta.url), "utf8");

test("docs/monitor.md lists every alert rule, threshold key and monitor flag", () => {
  for (const rule of ALERT_RULES) assert.ok(doc.includes(`| \`${rule}\` |`), `rule ${rule} missing from the alert rules table`);
  for (const key of Object.keys(thresholdsSchema.shape)) assert.ok(doc.includes(`| \`${key}\` |`), `threshold ${key} missing from the thresholds table`);
  const flags = monitorCommand.options.filter((o) => !o.hidden).map((o) => /^--[a-z-]+/.exec(o.flag)?.[0] ?? o.flag);
  assert.ok(flags.length >= 8, `flags of the monitor command: ${flags}`);
  for (const flag of flags) assert.ok(doc.includes(`\`${flag}`), `flag ${flag} missing from docs/monitor.md`);
});
