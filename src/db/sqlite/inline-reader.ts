/**
 * The main thread's own read-only connection, for reads whose statement has been measured fast
 * (read-profiles.ts): for a query that costs SQLite a few microseconds, the message round trip to
 * a reader thread costs more than the query. It never waits: busy_timeout is 0, so a read that
 * meets a lock gets SQLITE_BUSY at once and is handed back to the reader threads, which wait for
 * it within the request's deadline. WAL files only: there a read never waits for the writer.
 */
import BetterSqlite3 from "better-sqlite3";
import { bindValues, type Connection, type Stmt } from "./connection.js";
import { isBusy } from "./sqlite-errors.js";
import type { ReadProfile, ReadProfiles } from "./read-profiles.js";

/** Returned by {@link InlineReader.run} when the read must go to a reader thread instead. */
export const NOT_INLINE: unique symbol = Symbol("not inline");

/** The main-thread connection. Open it only after the writer has switched the file to WAL. */
export class InlineReader {
  readonly #db: Connection;
  readonly #profiles: ReadProfiles;

  /** Opens `path` read-only; throws what better-sqlite3 throws (the caller then keeps every read on the threads). */
  constructor(path: string, profiles: ReadProfiles) {
    this.#db = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
    // Never wait on the event loop: a lock means "use a thread", not "sleep here".
    this.#db.pragma("busy_timeout = 0");
    this.#profiles = profiles;
  }

  /**
   * Runs a promoted read now and returns its rows, or NOT_INLINE when it must go to a thread:
   * it writes or returns no rows (found when it is first prepared here), or it failed here for any
   * reason (a lock, or an error the thread will report with its full handling). A run over the
   * threshold demotes the statement at once.
   */
  run(p: ReadProfile, mode: "all" | "get", values: readonly unknown[]): unknown {
    let stmt = p.prepared as Stmt | undefined;
    if (stmt === undefined) {
      try {
        stmt = this.#db.prepare(p.text) as Stmt;
      } catch {
        this.#profiles.demote(p);
        return NOT_INLINE;
      }
      if (!stmt.reader || !stmt.readonly) {
        p.never = true;
        p.inline = false;
        return NOT_INLINE;
      }
      p.prepared = stmt;
    }
    const params = bindValues(values as Parameters<typeof bindValues>[0]);
    const t0 = performance.now();
    let out: unknown;
    try {
      out = mode === "all" ? stmt.all(...params) : stmt.get(...params);
    } catch (err) {
      if (isBusy(err)) this.#profiles.counts.busyFallbacks++;
      this.#profiles.inlineRun(p, (performance.now() - t0) * 1000);
      return NOT_INLINE;
    }
    this.#profiles.inlineRun(p, (performance.now() - t0) * 1000);
    this.#profiles.counts.inline++;
    if (mode === "get") plainBytes(out);
    else for (const row of out as unknown[]) plainBytes(row);
    return out;
  }

  /** Closes the connection (before the threads, so the writer can remove the -wal file as the last one out). */
  close(): void {
    this.#db.close();
  }
}

/**
 * better-sqlite3 returns BLOBs as Buffer; a thread's result arrives as a plain Uint8Array (structured
 * clone). Callers must see one type whichever way the read ran (Buffer's toString differs).
 */
function plainBytes(row: unknown): void {
  if (row === null || typeof row !== "object") return;
  const r = row as Record<string, unknown>;
  for (const k in r) {
    const v = r[k];
    if (typeof v === "object" && v !== null && Buffer.isBuffer(v)) r[k] = new Uint8Array(v); // a copy: a Buffer may be a slice of a shared pool
  }
}
