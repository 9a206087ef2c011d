/**
 * The main thread's own connection, for statements whose runs have been measured fast
 * (inline-profiles.ts): for a query that costs SQLite a few microseconds, the message round trip
 * to a thread costs more than the query. It never waits: busy_timeout is 0, so a statement that
 * meets a lock gets SQLITE_BUSY at once and is handed back to the threads, which wait for it
 * within the request's deadline. WAL files only: there a read never waits for the writer.
 *
 * With inline writes on it also runs short `db.run()` writes, when the writer thread is idle. Why
 * writes at all: SQLite discards a connection's whole page cache when it starts a read after
 * another connection committed, so while the writer thread commits, every inline read loads its
 * pages from the file again; a connection's own commits keep its cache (see docs/database.md,
 * "Inline writes").
 */
import { performance } from "node:perf_hooks";
import BetterSqlite3 from "better-sqlite3";
import type { HoldfastError } from "../../errors/index.js";
import type { RunResult } from "../types.js";
import { bindValues, type Connection, type Stmt } from "./connection.js";
import { isBusy, mapSqliteError } from "./sqlite-errors.js";
import type { InlineProfiles, StatementProfile } from "./inline-profiles.js";

/** Returned by {@link InlineConnection.read} and {@link InlineConnection.write} when the statement must go to a thread instead. */
export const NOT_INLINE: unique symbol = Symbol("not inline");

/** The statements a write may be: plain DML. Pragmas, transaction control, ATTACH, VACUUM… stay on the writer's connection. */
const DML = /^\s*(?:insert|update|delete|replace|with)\b/i;

/** True when `text` may ever run as an inline write (a write statement that commits on its own). */
export function inlineWritable(text: string): boolean {
  return DML.test(text);
}

/** The main-thread connection. Open it only after the writer has switched the file to WAL. */
export class InlineConnection {
  readonly #db: Connection;
  readonly #path: string;
  readonly #reads: InlineProfiles;
  readonly #writes: InlineProfiles | undefined;

  /**
   * Opens `path`, read-only unless `writes` is given; throws what better-sqlite3 throws (the
   * caller then keeps every statement on the threads).
   */
  constructor(path: string, reads: InlineProfiles, writes: InlineProfiles | undefined) {
    this.#db = new BetterSqlite3(path, { readonly: writes === undefined, fileMustExist: true });
    // Never wait on the event loop: a lock means "use a thread", not "sleep here".
    this.#db.pragma("busy_timeout = 0");
    if (writes !== undefined) {
      // As the writer's connection: a commit appends to the WAL without fsync.
      this.#db.pragma("synchronous = NORMAL");
      this.#db.pragma("foreign_keys = ON");
      // A checkpoint does file I/O and fsyncs: the writer thread runs them (SqliteDatabase asks it to).
      this.#db.pragma("wal_autocheckpoint = 0");
    }
    this.#path = path;
    this.#reads = reads;
    this.#writes = writes;
  }

  /**
   * Runs a promoted read now and returns its rows, or NOT_INLINE when it must go to a thread:
   * it writes or returns no rows (found when it is first prepared here), or it failed here for any
   * reason (a lock, or an error the thread will report with its full handling). A run over the
   * threshold demotes the statement at once. `t0` is the caller's clock reading at the call
   * (performance.now()); the run is timed from it.
   */
  read(p: StatementProfile, mode: "all" | "get", values: readonly unknown[], t0: number): unknown {
    let stmt = p.prepared as Stmt | undefined;
    if (stmt === undefined) {
      try {
        stmt = this.#db.prepare(p.text) as Stmt;
      } catch {
        this.#reads.demote(p);
        return NOT_INLINE;
      }
      if (!stmt.reader || !stmt.readonly) {
        p.never = true;
        p.inline = false;
        return NOT_INLINE;
      }
      p.prepared = stmt;
      p.plainBytes = plainBytesOf(stmt.columns().map((c) => c.name));
      // Preparing is a one-off, not what the statement costs.
      t0 = performance.now();
    }
    const params = bindValues(values as Parameters<typeof bindValues>[0]);
    let out: unknown;
    try {
      // One array argument, not spread: better-sqlite3 binds an array's elements in order, and a
      // spread call reaches its native method through V8's slow API-call path (about 400
      // instructions a call under callgrind).
      out = mode === "all" ? stmt.all(params) : stmt.get(params);
    } catch (err) {
      if (isBusy(err)) this.#reads.counts.busyFallbacks++;
      const end = performance.now();
      this.#reads.inlineRun(p, (end - t0) * 1000, end);
      return NOT_INLINE;
    }
    const end = performance.now();
    this.#reads.inlineRun(p, (end - t0) * 1000, end);
    this.#reads.counts.inline++;
    const plain = p.plainBytes as RowFix;
    if (mode === "get") {
      if (out !== undefined) plain(out as Row);
    } else {
      const rows = out as Row[];
      for (let i = 0; i < rows.length; i++) plain(rows[i] as Row);
    }
    return out;
  }

  /**
   * Runs a promoted write now, committed on its own (autocommit), and returns its result;
   * NOT_INLINE when it must go to the writer thread: a lock is held (by the writer thread or
   * another process; SQLite undid the statement), or it cannot be prepared here. Any other
   * failure is the statement's own (a constraint, say): SQLite undid it, and it is thrown as the
   * writer thread would have reported it. A run over the threshold demotes the statement. `t0`
   * as for {@link read}.
   */
  write(p: StatementProfile, values: readonly unknown[], t0: number): RunResult | typeof NOT_INLINE {
    const profiles = this.#writes as InlineProfiles;
    let stmt = p.prepared as Stmt | undefined;
    if (stmt === undefined) {
      try {
        stmt = this.#db.prepare(p.text) as Stmt;
      } catch {
        profiles.demote(p);
        return NOT_INLINE;
      }
      p.prepared = stmt;
      t0 = performance.now();
    }
    const params = bindValues(values as Parameters<typeof bindValues>[0]);
    let r: BetterSqlite3.RunResult;
    try {
      r = stmt.run(params);
    } catch (err) {
      const end = performance.now();
      profiles.inlineRun(p, (end - t0) * 1000, end);
      if (isBusy(err)) {
        profiles.counts.busyFallbacks++;
        return NOT_INLINE;
      }
      throw mapSqliteError(err, this.#path, p.text) satisfies HoldfastError;
    }
    const end = performance.now();
    profiles.inlineRun(p, (end - t0) * 1000, end);
    profiles.counts.inline++;
    return { changes: r.changes, lastInsertRowid: r.lastInsertRowid };
  }

  /** Closes the connection (before the threads, so the writer can remove the -wal file as the last one out). */
  close(): void {
    this.#db.close();
  }
}

type Row = Record<string, unknown>;
/** Turns the Buffers of one row of a statement into plain Uint8Arrays, in place. */
export type RowFix = (row: Row) => void;

/**
 * better-sqlite3 returns BLOBs as Buffer; a thread's result arrives as a plain Uint8Array (structured
 * clone). Callers must see one type whichever way the read ran (Buffer's toString differs), and any
 * column may hold a BLOB (SQLite types values, not columns). So every value of every row is looked
 * at, by a function made once per statement that names its columns: a loop over the names did a
 * megamorphic keyed load per value (about 90 instructions each under callgrind, 360 per point read of
 * 4 columns, 1.6 % of a bench:sqlite operation), and for…in was slower still on Node 24 (3.3–4.1 µs for
 * 20 rows of 4 columns). Each name goes into the code as a JSON string literal, so no column name can
 * change what the code does.
 */
export function plainBytesOf(columns: readonly string[]): RowFix {
  let body = "let v;\n";
  for (const name of new Set(columns)) {
    const key = JSON.stringify(name);
    // A copy: a Buffer may be a slice of a shared pool.
    body += `v = r[${key}]; if (typeof v === "object" && v !== null && isBuffer(v)) r[${key}] = new Uint8Array(v);\n`;
  }
  return new Function("isBuffer", `return function plainBytes(r) {\n${body}};`)(Buffer.isBuffer) as RowFix;
}
