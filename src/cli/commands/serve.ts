/** `holdfast serve <app>`: run an app under the supervisor. */
import { resolve } from "node:path";
import { checkConfig, loadConfig, sqliteUrlPath } from "../../config/index.js";
import { connectionBudgetFix, connectionBudgetWarning, readServerConnectionLimits } from "../../db/postgres/index.js";
import { startServer, startTerminalNotices } from "../../server/index.js";
import { redactUrl } from "../../telemetry/index.js";
import type { CliOption, Command } from "../command.js";
import { str } from "../parse-args.js";

/** Flags that set a config value (shared with `holdfast config`, which loads the config the same way). */
export const SERVE_OPTIONS: CliOption[] = [
  { flag: "--port <n>", description: "port to listen on (default 3000; 0 = any free port)" },
  { flag: "--host <addr>", description: "address to listen on (default 127.0.0.1)" },
  { flag: "--workers <n|auto>", description: "worker processes (default auto = one per CPU this process may run on)" },
  { flag: "--admin-port <n>", description: "admin endpoint port (default 9464; 0 = any free port)" },
  { flag: "--admin-host <addr>", description: "admin endpoint address (default 127.0.0.1; others need admin.token)" },
  { flag: "--config <file>", description: "config file (default: holdfast.config.{ts,mjs,js,json} in the current directory)" },
  {
    flag: "--db <url>",
    description:
      "database URL for ctx.db (default sqlite:./data/app.db, created on first use; put a password in HOLDFAST_DB_URL rather than on the command line)",
  },
  { flag: "--log-file <path>", description: 'JSON log file (default "-": standard output)' },
  { flag: "--log-level <level>", description: "trace, debug, info, warn, error (default info)" },
];

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
  arguments: "<app.js|app.ts> [options]",
  description: `Runs <app> (default export: a (req, res) listener, an Express/Fastify/Hono/Koa app, or
defineApp(async ({ db, log }) => app)) in N worker processes sharing one port.`,
  options: SERVE_OPTIONS,
  epilog: `Signals: SIGHUP re-reads the config and rolls the workers one by one with no dropped request
(an invalid config cancels the reload); SIGTERM/SIGINT drain
in-flight requests (up to timeouts.graceful) and exit 0.
Every setting: holdfast config --docs. Effective values and their origin: holdfast config.`,
  async run({ values, positionals }) {
    const { flags, flagNames } = configFlags(values, positionals[0]);
    const load = () => loadConfig({ configFile: str(values.config), flags, flagNames });
    const { config, file, warnings: loadWarnings } = await load();
    for (const w of loadWarnings) process.stderr.write(`holdfast: warning: ${w}\n`);
    // SIGHUP re-reads the same sources, so a config edit rolls out with the reload.
    const server = await startServer(config, { reloadConfig: async () => (await load()).config });
    // The log has them too; on the terminal they must not scroll past unseen.
    for (const w of checkConfig(config).warnings) process.stderr.write(`holdfast: warning: ${w.message}\n  fix: ${w.fix}\n`);
    const admin = server.urls.admin;
    const lines = [
      `holdfast: serving ${config.app} with ${config.workers} worker${config.workers === 1 ? "" : "s"}`,
      `  pid:    ${process.pid} (the supervisor: kill -HUP ${process.pid} reloads the config and rolls the workers, kill -TERM ${process.pid} stops gracefully)`,
      `  app:    ${server.urls.app}`,
      `  admin:  ${admin ?? "(disabled)"}${admin ? `  (live dashboard: open it in a browser; status: ${admin}status, metrics: ${admin}metrics)` : ""}`,
      `  config: ${file ?? "no config file; defaults + env (HOLDFAST_*) + flags"}`,
      `  db:     ${describeDatabase(config.db.url)}`,
      `  logs:   ${config.log.file === "-" ? "standard output (JSON lines; set log.file or --log-file for a file)" : resolve(config.log.file)}`,
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
    // A watchdog kill, a crash or a shedding burst is one line on a terminal; piped, the log has them.
    if (process.stderr.isTTY) {
      const stop = startTerminalNotices(server.supervisor, { write: (l) => void process.stderr.write(l), adminUrl: admin });
      void server.stopped.finally(stop);
    }
    // Once, off the start-up path: a server that cannot be reached is reported by the pool itself.
    if (/^postgres(ql)?:\/\//i.test(config.db.url)) void warnConnectionBudget(config.db.url, config.workers, config.db.pool.max);
    return server.stopped;
  },
};

/** Warns on stderr when workers × db.pool.max exceeds what the PostgreSQL server's max_connections leaves. */
async function warnConnectionBudget(url: string, workers: number, poolMax: number): Promise<void> {
  const limits = await readServerConnectionLimits(url);
  const warning = limits && connectionBudgetWarning(limits, workers, poolMax);
  if (limits && warning) process.stderr.write(`holdfast: warning: ${warning}\n  fix: ${connectionBudgetFix(limits, workers)}\n`);
}
export default command;
