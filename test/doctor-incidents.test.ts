/**
 * The doctor judged on recorded incidents: test/fixtures/incidents/<name>/ holds the logs real
 * nginx/HAProxy and real apps wrote during an injected fault (`npm run incidents:record`) and a
 * label.json saying what an expert concludes. The built CLI runs in each incident's dir with the
 * label's args; its first finding must be the deepest cause, each link of the label's chain must
 * be in the JSON report's `causes`, and a healthy incident must give nothing above info.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, test } from "node:test";
import { SCENARIOS } from "./fixtures/incidents/record/scenarios/index.js";

const ROOT = new URL("..", import.meta.url).pathname;
const CLI = join(ROOT, "dist", "cli", "main.js");
/** The kept incidents, or a fresh set recorded with `npm run incidents:record -- --out <dir>`. */
const INCIDENTS = process.env.HOLDFAST_INCIDENTS_DIR ? resolve(process.env.HOLDFAST_INCIDENTS_DIR) : join(ROOT, "test", "fixtures", "incidents");

/** label.json of an incident. */
interface Label {
  description: string;
  args: string[];
  chain: string[];
  healthy: boolean;
}

/** The part of `doctor --json` this test reads. */
interface Report {
  findings: { id: string; severity: string; explains: number; causes?: string[]; explainedBy?: string[] }[];
}

const names = readdirSync(INCIDENTS, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(INCIDENTS, d.name, "label.json")))
  .map((d) => d.name)
  .sort();

function readLabel(name: string): Label {
  return JSON.parse(readFileSync(join(INCIDENTS, name, "label.json"), "utf8")) as Label;
}

/** Runs the built CLI in the incident's dir; the report, or a failure naming what the CLI said. */
function doctor(name: string, label: Label): Report {
  const r = spawnSync(process.execPath, [CLI, "doctor", "--json", "--skip-system", ...label.args], {
    cwd: join(INCIDENTS, name),
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, NO_COLOR: "1" },
  });
  // 0: nothing above info, 1: problems found; anything else is bad usage or a crash.
  assert.ok(r.status === 0 || r.status === 1, `doctor exited ${r.status} (signal ${r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Report;
}

/** The findings as one line, for failure messages: what the doctor said instead. */
function summary(report: Report): string {
  return report.findings
    .slice(0, 6)
    .map((f) => `${f.id} [${f.severity}, explains ${f.explains}${f.causes?.length ? `, causes ${f.causes.join("+")}` : ""}]`)
    .join("; ");
}

describe("doctor on recorded incidents", () => {
  test("the incidents are there, each label well formed and its files present", () => {
    assert.ok(existsSync(CLI), `${CLI} is missing: build first (npx tsc -p tsconfig.json)`);
    assert.ok(names.length >= 15, `only ${names.length} incidents under ${INCIDENTS}`);
    // One recording per scenario of the recorder, and its label as the scenario states it.
    assert.deepEqual(names, SCENARIOS.map((s) => s.name).sort(), "record/scenarios and the recorded dirs differ: run npm run incidents:record <name>");
    for (const name of names) {
      const label = readLabel(name);
      const scenario = SCENARIOS.find((s) => s.name === name);
      assert.deepEqual(
        { description: label.description, chain: label.chain, healthy: label.healthy },
        { description: scenario?.description, chain: scenario?.chain, healthy: scenario?.healthy },
        `${name}: label.json is not what its scenario says now: re-record it (npm run incidents:record ${name})`,
      );
      assert.ok(label.description.length > 40, `${name}: describe what was injected and what an expert concludes`);
      assert.equal(typeof label.healthy, "boolean", `${name}: healthy must be true or false`);
      assert.equal(label.chain.length === 0, label.healthy, `${name}: a chain exactly when not healthy`);
      for (let i = 0; i < label.args.length; i++) {
        if (!label.args[i].startsWith("--") && label.args[i - 1]?.match(/-(log|config)$/)) {
          assert.ok(existsSync(join(INCIDENTS, name, label.args[i])), `${name}: ${label.args[i]} is in args but not in the incident`);
        }
      }
    }
  });

  for (const name of names) {
    const label = readLabel(name);
    const what = label.healthy ? "healthy: nothing above info" : label.chain.join(" → ");
    test(`${name}: ${what}`, () => {
      const report = doctor(name, label);
      if (label.healthy) {
        const above = report.findings.filter((f) => f.severity !== "info");
        assert.deepEqual(
          above.map((f) => f.id),
          [],
          `healthy incident, but the doctor reports: ${summary(report)}`,
        );
        return;
      }
      assert.equal(report.findings[0]?.id, label.chain[0], `the deepest cause should come first; the doctor reports: ${summary(report)}`);
      for (let i = 0; i + 1 < label.chain.length; i++) {
        const [cause, effect] = [label.chain[i], label.chain[i + 1]];
        const finding = report.findings.find((f) => f.id === cause);
        assert.ok(finding, `no ${cause} finding; the doctor reports: ${summary(report)}`);
        assert.ok(
          finding.causes?.includes(effect),
          `${cause} should list ${effect} in causes, has ${JSON.stringify(finding.causes)}; the doctor reports: ${summary(report)}`,
        );
      }
    });
  }
});
