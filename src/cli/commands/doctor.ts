/** `holdfast doctor`: which cause produced these 502/504s, with the evidence, and the change that removes it. */
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { parseDuration } from "../../config/index.js";
import { applyFixes, type DoctorOptions, describeOutcomes, describePlan, type LogInput, planFixes, runDoctor, toJson, toMarkdown, toText } from "../../doctor/index.js";
import { errors } from "../../errors/index.js";
import type { Command } from "../command.js";

const usage = `Usage: holdfast doctor [options]

Reads proxy and app logs, probes the database, the host and running instances, and links what it
finds into causal chains — a configuration cause (timeout inversion) → an app cause (SQLite lock,
pool, stuck worker) → the proxy's symptom (502/504) — deepest cause with evidence first, each with
its evidence, the time lag between the links and the exact fix.
Every input is optional; give what you have. Logs may be plain or .gz, any size.

Inputs:
  --config <file>            holdfast config (timeouts, pool, database URL)
  --db <url>                 database to probe: sqlite:./data/app.db or postgres://user@host/db
  --admin <url>              admin endpoint of a running instance (repeatable), e.g. http://127.0.0.1:9464
  --admin-token <token>      bearer token for --admin (default: $HOLDFAST_ADMIN_TOKEN)
  --nginx-access-log <file>  nginx access log (repeatable)
  --nginx-error-log <file>   nginx error log (repeatable)
  --nginx-config <file>      nginx config, or the output of \`nginx -T\` (timeouts, keepalive, log_format)
  --nginx-log-format <fmt>   access log format, e.g. '$remote_addr [$time_local] "$request" $status $upstream_response_time'
  --haproxy-log <file>       HAProxy HTTP log (repeatable)
  --haproxy-config <file>    haproxy.cfg
  --alb-log <file>           AWS ALB access log, plain or .gz (repeatable)
  --app-log <file>           app log (repeatable): holdfast JSON; pino/winston/bunyan/structlog/python-json-logger/
                             lograge JSON; gunicorn/uWSGI/Puma/Rails/Flask/Spring/knex/pg/SQLite text, tracebacks included
  --since <time>             only events at or after: ISO time (2026-11-24T14:00:00Z) or an age (2h, 30m)
  --until <time>             only events before: same forms
  --skip-system              do not probe the host (load, memory, disk, fds, listen overflows)

Output:
  --json                     machine-readable report; findings in chain order, each with id, layer, title,
                             severity, confidence (0..1), explains, evidence, fix, causes, explainedBy, links
  --markdown                 Markdown report (for a ticket or post-mortem)
  --fix                      print the fix plan (safe SQLite maintenance + suggested config changes)
  --yes                      with --fix: apply the safe fixes (online backup first, then verify each)
                             and write the suggested config changes to --patch-file; configs are never edited
  --patch-file <file>        where --fix --yes writes config suggestions (default holdfast-doctor.patch)
  --no-progress              no progress bar (it only shows when stderr is a terminal)

Exit status: 0 healthy (nothing above info), 1 problems found, 2 bad usage.

Examples:
  holdfast doctor --nginx-access-log /var/log/nginx/access.log --nginx-error-log /var/log/nginx/error.log \\
                  --app-log logs/app.log --nginx-config <(nginx -T) --config holdfast.config.ts --since 2h
  holdfast doctor --alb-log alb-2026-11-24.log.gz --admin http://10.0.0.5:9464 --json
`;

function parseTime(flag: string, v: string | undefined, now: number): number | undefined {
  if (v === undefined) return undefined;
  const age = parseDuration(v);
  if (age !== undefined && /[a-z]$/i.test(v.trim())) return now - age;
  const t = Date.parse(v);
  if (Number.isFinite(t)) return t;
  throw errors.usage(`${flag} ${JSON.stringify(v)} is neither an ISO time (2026-11-24T14:00:00Z) nor an age (2h, 30m).`);
}

function list(v: unknown): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === "string");
}

const command: Command = {
  summary: "Find which cause produced the 502/504s, with evidence and the exact fix",
  usage,
  async run(argv) {
    let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
    try {
      ({ values } = parseArgs({
        args: argv,
        strict: true,
        allowPositionals: false,
        options: {
          config: { type: "string" },
          db: { type: "string" },
          admin: { type: "string", multiple: true },
          "admin-token": { type: "string" },
          "nginx-access-log": { type: "string", multiple: true },
          "nginx-error-log": { type: "string", multiple: true },
          "nginx-config": { type: "string" },
          "nginx-log-format": { type: "string" },
          "haproxy-log": { type: "string", multiple: true },
          "haproxy-config": { type: "string" },
          "alb-log": { type: "string", multiple: true },
          "app-log": { type: "string", multiple: true },
          since: { type: "string" },
          until: { type: "string" },
          "skip-system": { type: "boolean" },
          json: { type: "boolean" },
          markdown: { type: "boolean" },
          fix: { type: "boolean" },
          yes: { type: "boolean" },
          "patch-file": { type: "string" },
          "no-progress": { type: "boolean" },
        },
      }));
    } catch (err) {
      throw errors.usage(`${(err as Error).message}. See \`holdfast doctor --help\`.`);
    }
    if (values.json && values.markdown) throw errors.usage("--json and --markdown exclude each other; pick one.");
    if (values.yes && !values.fix) throw errors.usage("--yes only applies with --fix (holdfast doctor --fix --yes).");
    const logs: LogInput[] = [];
    const add = (flag: string, kind: LogInput["kind"]) => {
      for (const file of list(values[flag])) {
        if (!existsSync(file)) throw errors.usage(`--${flag} ${file}: no such file.`);
        logs.push({ kind, file });
      }
    };
    add("nginx-access-log", "nginx-access");
    add("nginx-error-log", "nginx-error");
    add("haproxy-log", "haproxy");
    add("alb-log", "alb");
    add("app-log", "app");
    for (const flag of ["config", "nginx-config", "haproxy-config"]) {
      const f = values[flag];
      if (typeof f === "string" && !existsSync(f)) throw errors.usage(`--${flag} ${f}: no such file.`);
    }
    const now = Date.now();
    const str = (k: string) => (typeof values[k] === "string" ? (values[k] as string) : undefined);
    const opts: DoctorOptions = {
      configFile: str("config"),
      db: str("db"),
      admin: list(values.admin),
      adminToken: str("admin-token") ?? process.env.HOLDFAST_ADMIN_TOKEN,
      logs,
      nginxConfig: str("nginx-config"),
      haproxyConfig: str("haproxy-config"),
      nginxLogFormat: str("nginx-log-format"),
      since: parseTime("--since", str("since"), now),
      until: parseTime("--until", str("until"), now),
      system: !values["skip-system"],
      progress: !values["no-progress"],
    };
    const result = await runDoctor(opts);
    process.stdout.write(values.json ? toJson(result) : values.markdown ? toMarkdown(result) : toText(result));
    let fixFailed = false;
    if (values.fix) {
      const plan = planFixes(result, str("patch-file"));
      const out = values.json ? process.stderr : process.stdout;
      out.write(`\n${describePlan(plan)}`);
      if (values.yes) {
        const applied = await applyFixes(plan);
        out.write(describeOutcomes(applied));
        fixFailed = applied.outcomes.some((o) => !o.ok);
      } else if (plan.steps.length || plan.patch) out.write("Nothing was changed. Run again with --fix --yes to apply.\n");
    }
    return result.healthy && !fixFailed ? 0 : 1;
  },
};

export default command;
