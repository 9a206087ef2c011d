/** `holdfast serve <app>`: run an app under the supervisor. */
import { resolve } from "node:path";
import { checkConfig, loadConfig, sqliteUrlPath } from "../../config/index.js";
import { startServer } from "../../server/index.js";
import { redactUrl } from "../../telemetry/index.js";
import type { Command } from "../command.js";
import { parseFlags, str } from "../parse-args.js";

const FLAGS = {
  port: { type: "string", short: "p" },
  host: { type: "string" },
  workers: { type: "string", short: "w" },
  "admin-port": { type: "string" },
  "admin-host": { type: "string" },
  config: { type: "string", short: "c" },
  "log-file": { type: "string" },
  "log-level": { type: "string" },
  db: { type: "string" },
} as const;

/** Flag → dotted config path. */
export const SERVE_FLAG_PATHS: Record<string, string> = {
  port: "port",
  host: "host",
  workers: "workers",
  "admin-port": "admin.port",
  "admin-host": "admin.host",
  "log-file": "log.file",
  "log-level": "log.level",
  db: "db.url",
};

/** Turns parsed flags into loadConfig's `flags` and `flagNames`. */
export function configFlags(values: Record<string, unknown>, positional: string | undefined) {
  const flags: Record<string, unknown> = {};
  const flagNames: Record<string, string> = {};
  for (const [flag, path] of Object.entries(SERVE_FLAG_PATHS)) {
    if (values[flag] !== undefined) {
      flags[path] = values[flag];
      flagNames[path] = `--${flag}`;
    }
  }
  if (positional) {
    flags.app = positional;
    flagNames.app = "the app argument";
  }
  return { flags, flagNames };
}

/** Where ctx.db lives, for the banner: the absolute SQLite path (nothing exists until the app first uses it), or the URL without secrets. */
function describeDatabase(url: string): string {
  const path = sqliteUrlPath(url);
  if (path === ":memory:") return "sqlite::memory: (in memory: lost when holdfast stops)";
  if (path !== undefined) return `sqlite:${resolve(path)} (created when the app first uses ctx.db)`;
  return redactUrl(url);
}

const command: Command = {
  summary: "Run an app under the pre-fork supervisor (watchdog, reload, graceful stop, admin endpoint).",
  usage: `Usage: holdfast serve <app.js|app.ts> [options]

Runs <app> (default export: a (req, res) listener, an Express/Fastify/Hono/Koa app, or
defineApp(async ({ db, log }) => app)) in N worker processes sharing one port.

Options:
  -p, --port <n>         port to listen on (default 3000; 0 = any free port)
      --host <addr>      address to listen on (default 127.0.0.1)
  -w, --workers <n|auto> worker processes (default auto = one per CPU core)
      --admin-port <n>   admin endpoint port (default 9464; 0 = any free port)
      --admin-host <a>   admin endpoint address (default 127.0.0.1; others need admin.token)
  -c, --config <file>    config file (default: holdfast.config.{ts,mjs,js,json} in the current directory)
      --db <url>         database URL for ctx.db (default sqlite:./data/app.db, created on first use;
                         put a password in HOLDFAST_DB_URL rather than on the command line)
      --log-file <path>  JSON log file (default "-": standard output)
      --log-level <lvl>  trace, debug, info, warn, error (default info)

Signals: SIGHUP re-reads the config and rolls the workers one by one with no dropped request
(an invalid config cancels the reload); SIGTERM/SIGINT drain
in-flight requests (up to timeouts.graceful) and exit 0.
Every setting: holdfast config --docs. Effective values and their origin: holdfast config.`,
  async run(argv) {
    const { values, positionals } = parseFlags("serve", argv, FLAGS);
    const { flags, flagNames } = configFlags(values, positionals[0]);
    const load = () => loadConfig({ configFile: str(values.config), flags, flagNames });
    const { config, warnings: loadWarnings } = await load();
    for (const w of loadWarnings) process.stderr.write(`holdfast: warning: ${w}\n`);
    // SIGHUP re-reads the same sources, so a config edit rolls out with the reload.
    const server = await startServer(config, { reloadConfig: async () => (await load()).config });
    // The log has them too; on the terminal they must not scroll past unseen.
    for (const w of checkConfig(config).warnings) process.stderr.write(`holdfast: warning: ${w.message}\n  fix: ${w.fix}\n`);
    process.stdout.write(
      `holdfast: serving ${config.app} with ${config.workers} worker${config.workers === 1 ? "" : "s"}\n  app:   ${server.urls.app}\n  admin: ${server.urls.admin ?? "(disabled)"}${server.urls.admin ? `  (live dashboard: open it in a browser; status: ${server.urls.admin}status, metrics: ${server.urls.admin}metrics)` : ""}\n  db:    ${describeDatabase(config.db.url)}\n  logs:  ${config.log.file === "-" ? "standard output (JSON lines; set log.file or --log-file for a file)" : resolve(config.log.file)}\n`,
    );
    return server.stopped;
  },
};
export default command;
