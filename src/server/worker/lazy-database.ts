/**
 * The `ctx.db` handed to apps: opens `db.url` on first use, so an app that never touches
 * the database never creates a file or a connection.
 */
import type { Config } from "../../config/index.js";
import { openDatabase } from "../../db/index.js";
import type { Database, DatabaseStatus, Queryable, RunResult, Row, SqlStatement, SqlValue } from "../../db/types.js";
import type { Logger } from "../../telemetry/index.js";

/** A Database that opens itself on first use. */
export class LazyDatabase implements Database {
  readonly dialect: "sqlite" | "postgres";
  #open: Promise<Database> | undefined;
  #db: Database | undefined;
  readonly #config: Config;
  readonly #log: Logger;

  constructor(config: Config, log: Logger) {
    this.#config = config;
    this.#log = log;
    this.dialect = /^postgres(ql)?:/.test(config.db.url) ? "postgres" : "sqlite";
  }

  /** The opened database (opens it now if needed). */
  opened(): Promise<Database> {
    this.#open ??= openDatabase(this.#config.db.url, {
      pool: this.#config.db.pool,
      sqlite: this.#config.db.sqlite,
      statementTimeout: this.#config.db.statementTimeout,
      log: this.#log,
    }).then((db) => {
      this.#db = db;
      return db;
    });
    return this.#open;
  }

  /** True once the database has been opened by a first use. */
  get isOpen(): boolean {
    return this.#db !== undefined;
  }

  async query<T = Row>(s: SqlStatement | string, p?: readonly SqlValue[]): Promise<T[]> {
    return (await this.opened()).query<T>(s, p);
  }
  async get<T = Row>(s: SqlStatement | string, p?: readonly SqlValue[]): Promise<T | undefined> {
    return (await this.opened()).get<T>(s, p);
  }
  async run(s: SqlStatement | string, p?: readonly SqlValue[]): Promise<RunResult> {
    return (await this.opened()).run(s, p);
  }
  async batch(statements: readonly SqlStatement[]): Promise<RunResult[]> {
    return (await this.opened()).batch(statements);
  }
  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return (await this.opened()).transaction(fn);
  }
  /** Status of the opened database; undefined-free placeholder figures before first use would mislead, so callers check isOpen. */
  status(): DatabaseStatus {
    if (!this.#db) throw new Error("database not opened yet; check isOpen first");
    return this.#db.status();
  }
  async close(): Promise<void> {
    if (this.#open) await (await this.#open).close();
  }
}
