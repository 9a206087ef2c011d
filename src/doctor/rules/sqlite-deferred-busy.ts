/**
 * Deferred-transaction SQLITE_BUSY: a transaction that began as a reader (BEGIN / DEFERRED) and
 * then writes cannot wait for the lock — SQLite returns SQLITE_BUSY at once, ignoring
 * busy_timeout (SQLITE_BUSY_SNAPSHOT in WAL). Signature: db.busy events, or lock errors that
 * came back in under 5 ms although a busy timeout is set.
 */
import { detectStack } from "../stack.js";
import type { AppRecord, Dataset, Fix, Located, Rule } from "../types.js";
import { speaksHoldfast } from "./stack-fixes.js";
import { appEventRule } from "./app-event-rule.js";
import { instantLock } from "./sqlite-lock.js";

export const sqliteDeferredBusy: Rule = appEventRule(
  "SQLITE_BUSY returned at once by deferred transactions that upgrade to write (busy_timeout cannot help).",
  {
    id: "sqlite-deferred-busy",
    title: "SQLITE_BUSY from deferred transactions: a read transaction tried to write",
    severity: "error",
    events: (e) => e.event === "db.busy" || (e.event === "db.locked" && instantLock(e.fields)),
    eventLabel: "instant SQLITE_BUSY",
    detail: () => "These errors come back without waiting, so raising busy_timeout will not help.",
    fix: immediateFix,
  },
);

/** BEGIN IMMEDIATE in the words of the stack that logged the errors. */
function immediateFix(data: Dataset, events: Located<AppRecord>[]): Fix {
  const stack = detectStack(data, events);
  const lib = stack.libraries[0];
  const own =
    lib === "python-sqlite3" || lib === "sqlalchemy" || stack.language === "python"
      ? {
          name: "python sqlite3",
          lines:
            'conn = sqlite3.connect("app.db", timeout=5, isolation_level=None)   # autocommit: you begin transactions yourself\nconn.execute("BEGIN IMMEDIATE")   # before reading what the transaction will write\n# SQLAlchemy: @event.listens_for(engine, "begin") def do_begin(conn): conn.exec_driver_sql("BEGIN IMMEDIATE")',
        }
      : lib === "activerecord" || stack.language === "ruby"
        ? { name: "Rails (sqlite3)", lines: "# config/database.yml (Rails 7.1+)\nproduction:\n  adapter: sqlite3\n  default_transaction_mode: immediate" }
        : stack.language === "node" || lib === "node-sqlite"
          ? {
              name: "Node SQLite",
              lines: "db.transaction(fn).immediate()   // better-sqlite3\n// sqlite3 / knex: run 'BEGIN IMMEDIATE' yourself before the first read",
            }
          : undefined;
  return {
    summary:
      "Begin every transaction that may write with BEGIN IMMEDIATE, so it takes the write lock up front and waits for it under the busy timeout instead of failing at its first write (SQLite cannot upgrade a read transaction while another writer committed in between).",
    holdfast: speaksHoldfast(stack)
      ? "await db.transaction(async (tx) => { /* reads then writes */ });   // BEGIN IMMEDIATE\n// better-sqlite3: db.transaction(fn).immediate(); knex/sqlite3: run 'BEGIN IMMEDIATE' yourself"
      : undefined,
    stack: own,
  };
}
