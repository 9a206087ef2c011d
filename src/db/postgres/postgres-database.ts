/**
 * The PostgreSQL Database: node-postgres clients under holdfast's pool core. Every statement
 * is bounded by min(db.statementTimeout, the request's remaining deadline) and cancelled on the
 * server when that passes; broken connections are dropped and replaced.
 */
import type pg from "pg";
import { dbDefaults } from "../../config/defaults.js";
import { currentContext } from "../../context/index.js";
import { errors } from "../../errors/index.js";
import { resolveOptional } from "../../optional/index.js";
import type { Logger } from "../../telemetry/index.js";
import { Pool, type Lease, type PoolOptions } from "../pool/index.js";
import { retryAfterSeconds } from "../retry-after.js";
import type { Database, DatabaseStatus, Queryable, Row, RunResult, SqlStatement, SqlValue } from "../types.js";
import { type CancelCause, closeConnection, openConnection, type PgConnection, runStatement, type StatementLimit } from "./pg-connection.js";
import { isConnectionError, mapPgError } from "./pg-errors.js";
import { toPostgresText } from "./placeholders.js";
import { redactUrl } from "../../telemetry/index.js";

/** The `db.pool` keys (milliseconds), as in the config schema. */
export type PostgresPoolOptions = Omit<PoolOptions<PgConnection>, "create" | "destroy" | "validate" | "ping" | "log" | "name">;

/** Options of {@link openPostgres}. */
export interface PostgresOptions {
  /** Pool settings (config `db.pool`). Default: the pool's defaults (max 10, acquireTimeout 5 s, …). */
  pool?: PostgresPoolOptions | undefined;
  /** Cap on one statement in ms (config `db.statementTimeout`); 0 = only the request deadline. Default 0. */
  statementTimeout?: number | undefined;
  /** Where pool and connection events are logged. Default: silent. */
  log?: Logger | undefined;
  /** `application_name` the server shows in pg_stat_activity. Default "holdfast". A URL parameter wins. */
  applicationName?: string | undefined;
  /** Longest wait for a new connection's handshake in ms. Default: the pool's acquireTimeout (5 s). */
  connectTimeout?: number | undefined;
  /** Pool name in logs and errors. Default "postgres". */
  name?: string | undefined;
}

/** How long validation and keepalive pings may take before the connection counts as dead. */
const CHECK_LIMIT: StatementLimit = { ms: 2000, by: "statementTimeout" };
/** ROLLBACK must run even after the deadline passed; this bounds it instead. */
const ROLLBACK_LIMIT: StatementLimit = { ms: 5000, by: "statementTimeout" };

/** Opens a PostgreSQL database by URL (`postgres://` or `postgresql://`). Connections open lazily, on first use (or `pool.min`). */
export function openPostgres(url: string, options: PostgresOptions = {}): Database {
  return new PostgresDatabase(url, options);
}

class PostgresDatabase implements Database {
  readonly dialect = "postgres" as const;
  readonly #url: string;
  readonly #pool: Pool<PgConnection>;
  readonly #statementTimeout: number;
  readonly #poolMax: number;

  constructor(url: string, o: PostgresOptions) {
    this.#url = redactUrl(url);
    if (!URL.canParse(url) || !/^postgres(ql)?:$/.test(new URL(url).protocol)) {
      throw errors.configInvalid(`db.url ${JSON.stringify(this.#url)} is not a PostgreSQL URL; expected postgres://user[:password]@host[:port]/database.`);
    }
    // At open, not at the first query: a missing driver is a set-up mistake, said once with its fix,
    // rather than a DB_UNAVAILABLE on every request.
    resolveOptional("pg", "db.url is a postgres:// URL");
    this.#statementTimeout = o.statementTimeout ?? 0;
    const poolOptions = o.pool ?? {};
    this.#poolMax = poolOptions.max ?? dbDefaults.pool.max;
    const name = o.name ?? "postgres";
    const clientConfig: pg.ClientConfig = {
      connectionString: url,
      application_name: o.applicationName ?? "holdfast",
      connectionTimeoutMillis: o.connectTimeout ?? poolOptions.acquireTimeout ?? dbDefaults.pool.acquireTimeout,
      keepAlive: true,
    };
    const check = async (conn: PgConnection): Promise<boolean> => {
      if (conn.broken !== undefined) return false;
      const r = await runStatement(conn, "SELECT 1", [], CHECK_LIMIT);
      return r.ok;
    };
    this.#pool = new Pool<PgConnection>({
      ...poolOptions,
      name,
      log: o.log,
      create: async () => {
        try {
          return await openConnection(clientConfig, o.log, name);
        } catch (err) {
          const mapped = mapPgError(err, { poolMax: this.#poolMax, url: this.#url });
          // Whatever stops a connection from opening makes the database unavailable to this caller.
          if (mapped.code !== "DB_QUERY_FAILED") throw mapped;
          throw errors.dbUnavailable(`Could not open a PostgreSQL connection to ${this.#url}: ${errorMessage(err)}`, {
            cause: err,
            retryAfter: retryAfterSeconds("unreachable"),
          });
        }
      },
      destroy: (conn) => closeConnection(conn),
      validate: check,
      ping: async (conn) => {
        if (!(await check(conn))) throw new Error("keepalive SELECT 1 failed");
      },
    });
  }

  query<T = Row>(statement: SqlStatement | string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.#withConnection(async (conn) => (await this.#exec(conn, statement, params)).rows as T[]);
  }

  async get<T = Row>(statement: SqlStatement | string, params?: readonly SqlValue[]): Promise<T | undefined> {
    return (await this.query<T>(statement, params))[0];
  }

  run(statement: SqlStatement | string, params?: readonly SqlValue[]): Promise<RunResult> {
    return this.#withConnection(async (conn) => ({ changes: (await this.#exec(conn, statement, params)).rowCount ?? 0 }));
  }

  batch(statements: readonly SqlStatement[]): Promise<RunResult[]> {
    return this.transaction(async (tx) => {
      const out: RunResult[] = [];
      for (const s of statements) out.push(await tx.run(s));
      return out;
    });
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.#withConnection(async (conn) => {
      await this.#exec(conn, "BEGIN", undefined);
      let open = true;
      const guard = () => {
        if (!open) throw errors.dbQueryFailed("This transaction has already finished; run statements inside the transaction callback only.");
      };
      const tx: Queryable = {
        query: async <R = Row>(s: SqlStatement | string, p?: readonly SqlValue[]) => {
          guard();
          return (await this.#exec(conn, s, p)).rows as R[];
        },
        get: async <R = Row>(s: SqlStatement | string, p?: readonly SqlValue[]) => {
          guard();
          return (await this.#exec(conn, s, p)).rows[0] as R | undefined;
        },
        run: async (s: SqlStatement | string, p?: readonly SqlValue[]) => {
          guard();
          return { changes: (await this.#exec(conn, s, p)).rowCount ?? 0 };
        },
      };
      try {
        const result = await fn(tx);
        open = false;
        await this.#exec(conn, "COMMIT", undefined);
        return result;
      } catch (err) {
        open = false;
        if (conn.broken === undefined) {
          const rb = await runStatement(conn, "ROLLBACK", [], ROLLBACK_LIMIT);
          // A connection whose ROLLBACK failed may still be inside the transaction: never reuse it.
          if (!rb.ok) conn.broken = rb.error;
        }
        throw err;
      }
    });
  }

  status(): DatabaseStatus {
    return { dialect: "postgres", url: this.#url, pool: this.#pool.status() };
  }

  close(): Promise<void> {
    return this.#pool.close();
  }

  /** The pool underneath (events, count getters) for telemetry. */
  get pool(): Pool<PgConnection> {
    return this.#pool;
  }

  /** Borrows a connection, runs `fn`, and gives it back, or drops it when it broke. */
  async #withConnection<R>(fn: (conn: PgConnection) => Promise<R>): Promise<R> {
    const lease = await this.#acquireUsable();
    let result: R;
    try {
      result = await fn(lease.resource);
    } catch (err) {
      if (lease.resource.broken !== undefined || isConnectionError(err)) lease.destroy(err);
      else lease.release();
      throw err;
    }
    if (lease.resource.broken !== undefined) lease.destroy(lease.resource.broken);
    else lease.release();
    return result;
  }

  /** Acquires, skipping connections that died while idle (their 'error' event already fired), so callers do not pay for them. */
  async #acquireUsable(): Promise<Lease<PgConnection>> {
    for (let i = 0; i < this.#poolMax; i++) {
      const lease = await this.#pool.acquire();
      if (lease.resource.broken === undefined) return lease;
      lease.destroy(lease.resource.broken);
    }
    return this.#pool.acquire();
  }

  /** Runs one statement on `conn`, bounded by the deadline and statementTimeout; throws mapped errors. */
  async #exec(conn: PgConnection, statement: SqlStatement | string, params: readonly SqlValue[] | undefined): Promise<pg.QueryResult> {
    const raw = typeof statement === "string" ? statement : statement.text;
    const values = typeof statement === "string" ? (params ?? []) : statement.values;
    const text = toPostgresText(raw, values.length);
    const ctx = currentContext();
    const deadline = ctx?.deadline;
    const remaining = deadline === undefined || deadline.at === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : deadline.remaining();
    if (remaining <= 0) {
      throw errors.deadlineExceeded(`The request deadline passed before this PostgreSQL statement could start: ${preview(raw)}`);
    }
    const st = this.#statementTimeout;
    const limit: StatementLimit | undefined =
      st > 0 && st <= remaining ? { ms: st, by: "statementTimeout" } : Number.isFinite(remaining) ? { ms: remaining, by: "deadline" } : undefined;
    // Inside a request, a client that goes away cancels its statement on the server too.
    const abort = ctx ? { signal: ctx.signal, cause: (): CancelCause => (ctx.deadline.expired ? "deadline" : "aborted") } : undefined;
    const outcome = await runStatement(conn, text, values, limit, abort);
    if (outcome.ok) return outcome.result;
    throw mapPgError(outcome.error, {
      poolMax: this.#poolMax,
      url: this.#url,
      cancelledBy: outcome.cancelledBy,
      limitMs: limit?.ms,
      statement: preview(raw),
    });
  }
}

function preview(text: string): string {
  const one = text.replace(/\s+/g, " ").trim();
  return one.length > 160 ? `${one.slice(0, 157)}…` : one;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
