/**
 * Fix lines in the words of the stack the logs show: gunicorn's flags, Python sqlite3's
 * `timeout=`, knex / pg-pool / SQLAlchemy / HikariCP / ActiveRecord option names, holdfast's config
 * keys. Every value is filled in; a fix never names an option without its number.
 */
import { type DbLibrary, isHoldfast, type Stack } from "../stack.js";
import type { StackFix } from "../types.js";

/** "2.5" for 2500 ms (seconds, as most Python and Ruby options take them). */
function secs(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}

/** The busy timeout (how long a writer waits for the SQLite lock), set to `ms`. */
export function lockWaitFix(stack: Stack, ms: number): StackFix | undefined {
  const lib = firstOf(stack, ["python-sqlite3", "sqlalchemy", "node-sqlite", "activerecord", "knex"]);
  switch (lib) {
    case "python-sqlite3":
      return { name: "python sqlite3", lines: `sqlite3.connect("app.db", timeout=${secs(ms)})   # seconds a writer waits for the lock (default 5.0)` };
    case "sqlalchemy":
      return {
        name: "SQLAlchemy (sqlite)",
        lines: `create_engine("sqlite:///app.db", connect_args={"timeout": ${secs(ms)}})   # seconds, passed to sqlite3.connect`,
      };
    case "node-sqlite":
      return {
        name: "Node SQLite",
        lines: `new Database("app.db", { timeout: ${ms} })   // better-sqlite3, ms\ndb.configure("busyTimeout", ${ms})           // sqlite3 (node-sqlite3), ms`,
      };
    case "activerecord":
      return { name: "Rails (sqlite3)", lines: `# config/database.yml\nproduction:\n  adapter: sqlite3\n  timeout: ${ms}   # ms a writer waits for the lock` };
    case "knex":
      return { name: "knex (sqlite)", lines: `pool: { afterCreate: (conn, done) => conn.run("PRAGMA busy_timeout = ${ms}", done) }` };
    default:
      return undefined;
  }
}

/**
 * The pool's acquire timeout (how long a request waits for a connection), set to `ms`; `note`
 * replaces the default comment (e.g. "keep: already below the proxy's 10 s"). The pool's size is
 * left out: the logs do not say what the database can give this app, and a made-up number reads
 * as advice.
 */
export function poolWaitFix(stack: Stack, ms: number, note?: string): StackFix | undefined {
  const lib = firstOf(stack, ["knex", "pg-pool", "hikari", "sqlalchemy", "activerecord"]);
  switch (lib) {
    case "knex":
      return { name: "knex", lines: `knex({ client: "pg", connection, acquireConnectionTimeout: ${ms} })   // ${note ?? "ms (default 60000)"}` };
    case "pg-pool":
      return { name: "pg-pool", lines: `new Pool({ connectionTimeoutMillis: ${ms} })   // ${note ?? "ms to wait for a client (default 0 = forever)"}` };
    case "hikari":
      return {
        name: "HikariCP",
        lines: `spring.datasource.hikari.connection-timeout=${ms}   # HikariConfig.setConnectionTimeout(${ms}); ${note ?? "ms (default 30000)"}`,
      };
    case "sqlalchemy":
      return { name: "SQLAlchemy", lines: `create_engine(url, pool_timeout=${secs(ms)})   # ${note ?? "seconds (default 30)"}` };
    case "activerecord":
      return {
        name: "Rails (ActiveRecord)",
        lines: `# config/database.yml\nproduction:\n  checkout_timeout: ${secs(ms)}   # ${note ?? "seconds (default 5)"}`,
      };
    default:
      return undefined;
  }
}

/** A worker that stopped answering: the app server's own timeout, graceful timeout, keep-alive and worker class. */
export function workerTimeoutFix(stack: Stack, timeoutS: number, proxyReadS: number | undefined, proxyIdleS: number | undefined): StackFix | undefined {
  const keep = Math.max(5, (proxyIdleS ?? 60) + 5);
  switch (stack.server) {
    case "gunicorn":
      return {
        name: "gunicorn",
        lines: `gunicorn app:app --timeout ${timeoutS} --graceful-timeout ${timeoutS} --keep-alive ${keep} --worker-class gthread --threads 4\n# --timeout: seconds a worker may stay silent before the arbiter kills it${proxyReadS !== undefined ? ` (keep below proxy_read_timeout ${proxyReadS}s)` : ""}\n# gthread/gevent workers keep answering the arbiter while a request waits on I/O; a sync worker cannot`,
      };
    case "uwsgi":
      return {
        name: "uWSGI",
        lines: `[uwsgi]\nharakiri = ${timeoutS}          ; seconds before a stuck worker is recycled\nhttp-keepalive = ${keep}\nthreads = 4`,
      };
    case "puma":
      return {
        name: "Puma",
        lines: `# config/puma.rb\nworker_timeout ${timeoutS}\npersistent_timeout ${keep}   # above the proxy's idle timeout\nthreads 1, 5`,
      };
    default:
      return undefined;
  }
}

/** The app server's keep-alive, set above the proxy's idle timeout (seconds). */
export function keepAliveFix(stack: Stack, appKeepAliveS: number): StackFix | undefined {
  switch (stack.server) {
    case "gunicorn":
      return { name: "gunicorn", lines: `gunicorn app:app --keep-alive ${appKeepAliveS}   # seconds an idle connection stays open (default 2)` };
    case "uwsgi":
      return { name: "uWSGI", lines: `[uwsgi]\nhttp-keepalive = ${appKeepAliveS}` };
    case "puma":
      return { name: "Puma", lines: `persistent_timeout ${appKeepAliveS}   # config/puma.rb (default 20)` };
    case "node":
      return { name: "Node http", lines: `server.keepAliveTimeout = ${appKeepAliveS * 1000};\nserver.headersTimeout = ${appKeepAliveS * 1000 + 1000};` };
    default:
      return undefined;
  }
}

/** True when holdfast's own keys are the right words (the app is holdfast, or the logs do not say). */
export function speaksHoldfast(stack: Stack): boolean {
  return isHoldfast(stack);
}

function firstOf(stack: Stack, known: DbLibrary[]): DbLibrary | undefined {
  return stack.libraries.find((l) => known.includes(l));
}
