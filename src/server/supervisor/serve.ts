/**
 * `holdfast serve` as a function: start the supervisor and the admin endpoint for a loaded
 * config, wire the signals (SIGHUP reload, SIGTERM/SIGINT graceful stop), and resolve with
 * the exit code when everything has stopped.
 */
import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import { resolve } from "node:path";
import { type Config, checkConfig } from "../../config/index.js";
import { errors } from "../../errors/index.js";
import { resolveOptional } from "../../optional/index.js";
import { createLogger, type Logger } from "../../telemetry/index.js";
import { startAdminServer } from "./admin-server.js";
import { Supervisor } from "./supervisor.js";

/** A running holdfast instance. */
export interface RunningServer {
  supervisor: Supervisor;
  admin: Server | undefined;
  /** The app URL and the admin URL. */
  urls: { app: string; admin: string | undefined };
  log: Logger;
  /** Resolves with the process exit code once stopped. */
  stopped: Promise<number>;
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

/**
 * Fails the start, before any worker is forked, when the config uses a feature whose optional
 * package is missing: one DEPENDENCY_MISSING naming `npm install <package>`, instead of every
 * worker failing its first request. (A TypeScript app is checked when the supervisor forks;
 * log.pretty when the logger is created.)
 */
function requireOptionalPackages(config: Config): void {
  if (/^postgres(ql)?:\/\//i.test(config.db.url)) resolveOptional("pg", "db.url is a postgres:// URL");
  if (/^rediss?:\/\//.test(config.cache.url)) resolveOptional("ioredis", "cache.url is a redis:// URL");
}

/** Starts holdfast for `config` (its `app` must be set). Throws CONFIG_INVALID / APP_LOAD_FAILED with a clear message. */
export async function startServer(
  config: Config,
  options: { handleSignals?: boolean; reloadConfig?: (() => Promise<Config>) | undefined } = {},
): Promise<RunningServer> {
  if (!config.app) throw errors.usage("No app to serve. Usage: holdfast serve ./app.js (or set `app` in holdfast.config).");
  const appPath = resolve(config.app);
  const effective: Config = { ...config, app: appPath };
  const { errors: problems, warnings } = checkConfig(effective);
  if (problems.length) throw errors.configInvalid(`Refusing to start:\n  - ${problems.join("\n  - ")}`);
  requireOptionalPackages(effective);
  const log = await createLogger({ ...effective.log, base: { role: "supervisor" } });
  for (const w of warnings) {
    log.warn({ event: "config.timeout-budget", id: w.id, severity: w.severity, fix: w.fix }, w.message);
  }
  const reloadConfig = options.reloadConfig
    ? async () => {
        const next = { ...(await (options.reloadConfig as () => Promise<Config>)()), app: appPath };
        const { errors: bad } = checkConfig(next);
        if (bad.length) throw errors.configInvalid(`Refusing the new config:\n  - ${bad.join("\n  - ")}`);
        return next;
      }
    : undefined;
  const sup = new Supervisor({ config: effective, log, reloadConfig });
  const v = version();
  let admin: Server | undefined;
  if (effective.admin.enabled) admin = await startAdminServer(sup, v);
  try {
    await sup.start();
  } catch (err) {
    admin?.close();
    log.flush();
    throw err;
  }
  const adminAddr = admin?.address();
  const adminUrl = adminAddr && typeof adminAddr === "object" ? `http://${fmtHost(adminAddr.address)}:${adminAddr.port}/` : undefined;
  const urls = { app: `http://${fmtHost(effective.host === "0.0.0.0" ? "127.0.0.1" : effective.host)}:${sup.listenPort}/`, admin: adminUrl };

  if (options.handleSignals !== false) {
    process.on("SIGHUP", () => void sup.reload());
    const stop = (sig: string) => () => void sup.shutdown(sig);
    process.on("SIGTERM", stop("SIGTERM"));
    process.on("SIGINT", stop("SIGINT"));
  }
  const stopped = sup.stopped.then(async (code) => {
    if (admin) {
      const closed = new Promise<void>((r) => admin?.close(() => r()));
      // Event streams ended with the shutdown event; whatever a client still holds open
      // (a dashboard tab's keep-alive, a stalled reader) must not keep the process alive.
      admin.closeAllConnections();
      await closed;
    }
    await new Promise<void>((r) => log.flush(() => r()));
    return code;
  });
  return { supervisor: sup, admin, urls, log, stopped };
}

function fmtHost(h: string): string {
  return h.includes(":") ? `[${h}]` : h;
}
