/** `holdfast monitor`: live dashboard and alerts for one or several running holdfast instances. */
import { parseDuration } from "../../config/index.js";
import { errors } from "../../errors/index.js";
import {
  alertingRulesYaml,
  grafanaDashboard,
  loadThresholds,
  type MonitorOptions,
  parseWebhookTarget,
  snapshot,
  type Thresholds,
  ThresholdsError,
  type WebhookTarget,
  watch,
} from "../../monitor/index.js";
import { parseAdminUrl } from "../admin-url.js";
import type { Command } from "../command.js";
import { EXIT } from "../exit-codes.js";
import { str, strs } from "../parse-args.js";

const DEFAULT_ADMIN = "http://127.0.0.1:9464";

function webhookTarget(raw: string): WebhookTarget {
  const t = parseWebhookTarget(raw);
  if ("error" in t) throw errors.usage(`--alert-webhook: ${t.error}.`);
  return t;
}

function duration(flag: string, v: string | undefined, fallback: number | undefined, min: number): number | undefined {
  if (v === undefined) return fallback;
  const ms = parseDuration(v);
  if (ms === undefined || ms < min) throw errors.usage(`--${flag} must be a duration of at least ${min} ms, such as 1s or 500ms; got "${v}".`);
  return ms;
}

const command: Command = {
  arguments: "[options]",
  description: `Live view of running holdfast instances, read from their admin endpoints (/status, /metrics):
request rate, 5xx and 503 rates, p50/p99 latency over the last interval, workers, database
pool, SQLite WAL and lock timeouts, admission limit and queue. Alerts on the success metrics
(5xx > 1 %, p99 > 5 s, pool > 80 %, any pool or lock timeout, unstable workers, instance down)
and POSTs them to webhooks. On a terminal the screen is redrawn in place; piped, it prints
one line per instance per interval.`,
  options: [
    {
      flag: "--admin <url>",
      multiple: true,
      description: `admin endpoint (repeatable; default ${DEFAULT_ADMIN} or $HOLDFAST_ADMIN_URL); http://:TOKEN@host:port gives that instance its own token`,
    },
    { flag: "--token <token>", description: "bearer token (admin.token) for every --admin (default $HOLDFAST_ADMIN_TOKEN); --admin-token is the same" },
    { flag: "--interval <dur>", description: "time between scrapes (default 1s); with --once, the measuring window" },
    { flag: "--timeout <dur>", description: "per-scrape timeout (default: the interval, between 1s and 5s)" },
    { flag: "--once", description: "two scrapes one --interval apart, judge, print, exit" },
    { flag: "--json", description: "with --once: one JSON document; without: one JSON object per interval" },
    { flag: "--admin-token <token>", description: "same as --token", hidden: true },
    {
      flag: "--alert-webhook <[fmt=]url>",
      multiple: true,
      description: "POST alert transitions here (repeatable; retried with backoff); fmt is holdfast (default), alertmanager (webhook v4 shape) or slack",
    },
    {
      flag: "--thresholds <file|list>",
      multiple: true,
      description:
        "JSON file or inline key=value list (repeatable, later wins), e.g. --thresholds errorRate=2%,p99=3s,poolUtilization=90%,for=30s; keys: errorRate p99 poolUtilization poolTimeouts lockTimeouts workerRestarts instanceDown for resolveFor window minRequests (any rule: off)",
    },
    { flag: "--no-color", description: "no ANSI colours (also when NO_COLOR is set)" },
    { flag: "--grafana", description: "print a Grafana dashboard (JSON, Prometheus data source variable) and exit" },
    { flag: "--alert-rules", description: "print Prometheus alerting rules for the success metrics (YAML; honours --thresholds) and exit" },
  ],
  epilog: `Exit status: 0 no alert firing, 1 an alert fires (--once), 2 bad usage.

Examples:
  holdfast monitor
  holdfast monitor --admin http://10.0.0.5:9464 --admin http://10.0.0.6:9464 --token "$TOKEN" \\
                   --alert-webhook https://hooks.example.com/holdfast \\
                   --alert-webhook alertmanager=http://relay.example.com/am --alert-webhook slack=https://hooks.slack.com/services/T/B/x
  holdfast monitor --once --json --interval 10s --thresholds errorRate=0.5% || page-someone
  holdfast monitor --grafana > holdfast-grafana.json
  holdfast monitor --alert-rules --thresholds p99=2s > /etc/prometheus/rules/holdfast.yml`,
  async run({ values, positionals }) {
    if (positionals.length)
      throw errors.usage(`unexpected argument "${positionals[0]}". Admin endpoints go in --admin <url>. See \`holdfast monitor --help\`.`);
    const admins = strs(values.admin);
    if (admins.length === 0) admins.push(process.env.HOLDFAST_ADMIN_URL || DEFAULT_ADMIN);
    const parsed = admins.map(parseAdminUrl);
    const targets = [...new Set(parsed.map((a) => a.url))];
    const targetTokens = new Map(parsed.filter((a) => a.token !== undefined).map((a) => [a.url, a.token as string]));
    let thresholds: Thresholds;
    try {
      thresholds = loadThresholds(strs(values.thresholds));
    } catch (err) {
      if (err instanceof ThresholdsError) throw errors.usage(err.message);
      throw err;
    }
    if (values.grafana) {
      process.stdout.write(`${JSON.stringify(grafanaDashboard(), null, 2)}\n`);
      return EXIT.OK;
    }
    if (values["alert-rules"]) {
      process.stdout.write(alertingRulesYaml(thresholds));
      return EXIT.OK;
    }
    const opts: MonitorOptions = {
      targets,
      token: str(values.token) ?? str(values["admin-token"]) ?? process.env.HOLDFAST_ADMIN_TOKEN,
      targetTokens,
      intervalMs: duration("interval", str(values.interval), 1000, 100) ?? 1000,
      timeoutMs: duration("timeout", str(values.timeout), undefined, 50),
      thresholds,
      webhooks: strs(values["alert-webhook"]).map(webhookTarget),
    };
    const warn = (s: string) => void process.stderr.write(s);
    if (values.once) {
      const { doc, text } = await snapshot(opts, warn);
      process.stdout.write(values.json ? `${JSON.stringify(doc, null, 2)}\n` : text);
      return doc.healthy ? EXIT.OK : EXIT.PROBLEMS;
    }
    const tty = process.stdout.isTTY === true;
    const ac = new AbortController();
    const stop = () => ac.abort();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    // Keys on the full screen: raw mode gives each key press at once (q quits, 1-4/tab panels, s sort).
    const keys = tty && !values.json && process.stdin.isTTY ? process.stdin : undefined;
    keys?.setRawMode(true);
    keys?.resume();
    try {
      await watch(
        opts,
        {
          format: values.json ? "json" : tty ? "screen" : "lines",
          color: tty && !values["no-color"] && !process.env.NO_COLOR,
          width: () => process.stdout.columns,
          write: (s) => void process.stdout.write(s),
          warn,
          keys,
        },
        ac.signal,
      );
    } finally {
      keys?.setRawMode(false);
      keys?.pause();
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    }
    return EXIT.OK;
  },
};

export default command;
