/**
 * Deferred-transaction SQLITE_BUSY: a transaction that began as a reader (BEGIN / DEFERRED) and
 * then writes cannot wait for the lock — SQLite returns SQLITE_BUSY at once, ignoring
 * busy_timeout (SQLITE_BUSY_SNAPSHOT in WAL). Signature: db.busy events, or lock errors that
 * came back in under 5 ms although a busy timeout is set.
 */
import type { Rule } from "../types.js";
import { appEventRule } from "./app-event-rule.js";
import { instantLock } from "./sqlite-lock.js";

export const sqliteDeferredBusy: Rule = appEventRule("SQLITE_BUSY returned at once by deferred transactions that upgrade to write (busy_timeout cannot help).", {
  id: "sqlite-deferred-busy",
  title: "SQLITE_BUSY from deferred transactions: a read transaction tried to write",
  severity: "error",
  events: (e) => e.event === "db.busy" || (e.event === "db.locked" && instantLock(e.fields)),
  eventLabel: "instant SQLITE_BUSY",
  detail: () => "These errors come back without waiting, so raising busy_timeout will not help.",
  fix: {
    summary:
      "Begin every transaction that may write with BEGIN IMMEDIATE (holdfast's db.transaction() does), so it takes the write lock up front and waits for it under busy_timeout instead of failing at its first write.",
    holdfast: "await db.transaction(async (tx) => { /* reads then writes */ });   // BEGIN IMMEDIATE\n// better-sqlite3: db.transaction(fn).immediate(); knex/sqlite3: run 'BEGIN IMMEDIATE' yourself",
  },
});
