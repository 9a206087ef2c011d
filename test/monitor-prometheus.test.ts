// `holdfast monitor --alert-rules` and `--grafana`: rules that promtool accepts and whose unit
// tests pass (test/fixtures/prometheus/holdfast-rules.test.yml), a Grafana dashboard with the web
// dashboard's panels whose queries are valid PromQL over metrics a live holdfast really exposes.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { CLI, eventually, FIXTURES, startHoldfast } from "./support/holdfast-process.js";
import { requireBinary } from "./support/require-service.js";

const RULE_TESTS = new URL("./fixtures/prometheus/holdfast-rules.test.yml", import.meta.url).pathname;
const PAGE = new URL("../assets/dashboard/index.html", import.meta.url).pathname;

function holdfast(...args: string[]): string {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
  assert.equal(r.status, 0, `holdfast ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

interface Dashboard {
  uid: string;
  templating: { list: { name: string; type: string; query: unknown }[] };
  panels: { title: string; datasource: { type: string; uid: string }; targets: { expr: string }[] }[];
}

/** The metric names a PromQL expression reads (identifiers followed by `{` or `[`, or alone). */
function metricNames(expr: string): string[] {
  const out = new Set<string>();
  for (const m of expr.matchAll(/\b([a-z_][a-z0-9_]*)\s*(?=\{|\[|\)| offset| >| \/| -| ==|$)/g)) {
    const name = m[1] as string;
    if (!/^(sum|rate|increase|histogram_quantile|by|on|and|or|vector|changes|le|job|instance|offset)$/.test(name)) out.add(name);
  }
  return [...out];
}

test("--alert-rules passes promtool check rules and the rule unit tests; --thresholds changes them", async (t) => {
  const promtool = requireBinary(t, "promtool");
  if (!promtool) return;
  const dir = mkdtempSync(join(tmpdir(), "hf-rules-"));
  try {
    writeFileSync(join(dir, "holdfast-rules.yml"), holdfast("monitor", "--alert-rules"));
    copyFileSync(RULE_TESTS, join(dir, "holdfast-rules.test.yml"));
    const check = spawnSync(promtool, ["check", "rules", "holdfast-rules.yml"], { cwd: dir, encoding: "utf8" });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /SUCCESS: 8 rules found/);
    const unit = spawnSync(promtool, ["test", "rules", "holdfast-rules.test.yml"], { cwd: dir, encoding: "utf8" });
    assert.equal(unit.status, 0, `promtool test rules:\n${unit.stdout}${unit.stderr}`);

    const custom = holdfast("monitor", "--alert-rules", "--thresholds", "errorRate=off,p99=2s,poolUtilization=90%");
    assert.doesNotMatch(custom, /HoldfastHighErrorRate/);
    assert.match(custom, /rate\(http_server_request_duration_seconds_bucket\[1m\]\)\)\) > 2"/);
    assert.match(custom, /holdfast_db_pool_max\) > 0.9"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--grafana prints an importable dashboard with the web page's panels, valid PromQL over metrics holdfast exposes", async (t) => {
  const promtool = requireBinary(t, "promtool");
  if (!promtool) return;
  const dash = JSON.parse(holdfast("monitor", "--grafana")) as Dashboard;
  assert.equal(dash.uid, "holdfast");
  const dsVar = dash.templating.list.find((v) => v.type === "datasource");
  assert.equal(dsVar?.query, "prometheus", "the Prometheus data source is a variable");
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax
  for (const p of dash.panels) assert.deepEqual(p.datasource, { type: "prometheus", uid: "${datasource}" }, p.title);

  // Same panels as the web dashboard: every chart title on the page has a Grafana panel.
  const pageTitles = [...readFileSync(PAGE, "utf8").matchAll(/<div class="chart" id="[^"]+"><h2>([^<]+?)\s*(?:<span|<\/h2>)/g)].map((m) => m[1]);
  assert.ok(pageTitles.length >= 7, `chart titles read from the page: ${pageTitles}`);
  for (const title of pageTitles)
    assert.ok(
      dash.panels.some((p) => p.title === title),
      `no Grafana panel "${title}"`,
    );

  // Valid PromQL: promtool checks the queries as recording rules (Grafana's variables filled in).
  const exprs = dash.panels.flatMap((p) => p.targets.map((x) => x.expr));
  const dir = mkdtempSync(join(tmpdir(), "hf-grafana-"));
  const hf = await startHoldfast(join(FIXTURES, "basic.mjs"), { workers: 1 });
  try {
    const lines = ["groups:", "  - name: grafana-queries", "    rules:"];
    for (const [i, e] of exprs.entries()) {
      lines.push(
        `      - record: holdfast:grafana_query_${i}`,
        `        expr: ${JSON.stringify(e.replaceAll("$__rate_interval", "1m").replaceAll("$instance", ".*"))}`,
      );
    }
    writeFileSync(join(dir, "queries.yml"), `${lines.join("\n")}\n`);
    const check = spawnSync(promtool, ["check", "rules", "queries.yml"], { cwd: dir, encoding: "utf8" });
    assert.equal(check.status, 0, check.stdout + check.stderr);

    // Every metric the dashboard and the alert rules read is one holdfast exposes (or Prometheus's own `up`).
    await (await fetch(`${hf.appUrl}/`)).text();
    // The request histogram appears once a heartbeat has carried the first request.
    const text = await eventually(
      async () => {
        const s = await (await fetch(`${hf.adminUrl}/metrics`)).text();
        return s.includes("# TYPE http_server_request_duration_seconds histogram") ? s : undefined;
      },
      5_000,
      "the request histogram on /metrics",
    );
    const exposed = new Set(
      [...text.matchAll(/^# TYPE (\S+) (\S+)/gm)].flatMap((m) =>
        m[2] === "histogram" ? [`${m[1]}_bucket`, `${m[1]}_count`, `${m[1]}_sum`] : [m[1] as string],
      ),
    );
    const rules = holdfast("monitor", "--alert-rules");
    const used = new Set([...exprs, ...[...rules.matchAll(/expr: "(.*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string)].flatMap(metricNames));
    assert.ok(used.size >= 15, `metric names found in the queries: ${[...used]}`);
    for (const name of used) if (name !== "up") assert.ok(exposed.has(name), `${name} is queried but not on /metrics`);
  } finally {
    await hf.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
