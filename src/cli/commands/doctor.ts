/** `holdfast doctor`: which cause produced these 502/504s, with the evidence, and the change that removes it. */
import { existsSync } from "node:fs";
import { parseDuration } from "../../config/index.js";
import {
  applyFixes,
  type DoctorOptions,
  describeOutcomes,
  describePlan,
  type LogInput,
  planFixes,
  runDoctor,
  toJson,
  toMarkdown,
  toText,
} from "../../doctor/index.js";
import { errors } from "../../errors/index.js";
import type { Command } from "../command.js";
import { EXIT } from "../exit-codes.js";

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
  arguments: "[options]",
  description: `Reads proxy and app logs, probes the database, the host and running instances, and links what it
finds into causal chains — a configuration cause (timeout inversion) → an app cause (SQLite lock,
pool, stuck worker) → the proxy's symptom (502/504) — deepest cause with evidence first, each with
its evidence, the time lag between the links and the exact fix.
Every input is optional; give what you have. Logs may be plain or .gz, any size.`,
  options: [
    { flag: "--config <file>", description: "holdfast config (timeouts, pool, database URL)" },
    { flag: "--db <url>", description: "database to probe: sqlite:./data/app.db or postgres://user@host/db" },
    { flag: "--admin <url>", multiple: true, description: "admin endpoint of a running instance (repeatable), e.g. http://127.0.0.1:9464" },
    { flag: "--admin-token <token>", description: "bearer token for --admin (default: $HOLDFAST_ADMIN_TOKEN)" },
    { flag: "--nginx-access-log <file>", multiple: true, description: "nginx access log (repeatable)" },
    { flag: "--nginx-error-log <file>", multiple: true, description: "nginx error log (repeatable)" },
    { flag: "--nginx-config <file>", description: "nginx config, or the output of \\`nginx -T\\` (timeouts, keepalive, log_format)" },
    { flag: "--nginx-log-format <fmt>", description: "access log format, e.g. '$remote_addr [$time_local] \"$request\" $status $upstream_response_time'" },
    { flag: "--haproxy-log <file>", multiple: true, description: "HAProxy HTTP log (repeatable)" },
    { flag: "--haproxy-config <file>", description: "haproxy.cfg" },
    { flag: "--alb-log <file>", multiple: true, description: "AWS ALB access log, plain or .gz (repeatable)" },
    {
      flag: "--app-log <file>",
      multiple: true,
      description:
        "app log (repeatable): holdfast JSON; pino/winston/bunyan/structlog/python-json-logger/ lograge JSON; gunicorn/uWSGI/Puma/Rails/Flask/Spring/knex/pg/SQLite text, tracebacks included",
    },
    { flag: "--since <time>", description: "only events at or after: ISO time (2026-11-24T14:00:00Z) or an age (2h, 30m)" },
    { flag: "--until <time>", description: "only events before: same forms" },
    { flag: "--skip-system", description: "do not probe the host (load, memory, disk, fds, listen overflows)" },
    {
      flag: "--json",
      description:
        "machine-readable report; findings in chain order, each with id, layer, title, severity, confidence (0..1), explains, evidence, fix, causes, explainedBy, links",
    },
    { flag: "--markdown", description: "Markdown report (for a ticket or post-mortem)" },
    { flag: "--fix", description: "print the fix plan (safe SQLite maintenance + suggested config changes)" },
    {
      flag: "--yes",
      description:
        "with --fix: apply the safe fixes (online backup first, then verify each) and write the suggested config changes to --patch-file; configs are never edited",
    },
    { flag: "--patch-file <file>", description: "where --fix --yes writes config suggestions (default holdfast-doctor.patch)" },
    { flag: "--no-progress", description: "no progress bar (it only shows when stderr is a terminal)" },
  ],
  epilog: `Exit status: 0 healthy (nothing above info), 1 problems found, 2 bad usage.

Examples:
  holdfast doctor --nginx-access-log /var/log/nginx/access.log --nginx-error-log /var/log/nginx/error.log \\
                  --app-log logs/app.log --nginx-config <(nginx -T) --config holdfast.config.ts --since 2h
  holdfast doctor --alb-log alb-2026-11-24.log.gz --admin http://10.0.0.5:9464 --json`,
  async run({ values, positionals }) {
    if (positionals.length)
      throw errors.usage(
        `unexpected argument "${positionals[0]}": every input is a flag (--nginx-access-log FILE, --app-log FILE, ...). See \`holdfast doctor --help\`.`,
      );
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
    return result.healthy && !fixFailed ? EXIT.OK : EXIT.PROBLEMS;
  },
};

export default command;
