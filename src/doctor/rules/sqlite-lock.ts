/**
 * SQLite lock contention: writers waited past the busy timeout ("database is locked",
 * holdfast db.locked). Usually several processes writing the same file, or long write transactions.
 */
import type { Rule } from "../types.js";
import { appEventRule, max, numbers } from "./app-event-rule.js";

/** A lock error that came faster than this was not a busy-timeout wait (see sqlite-deferred-busy). */
export const INSTANT_LOCK_MS = 5;

export const sqliteLock: Rule = appEventRule("SQLite writers lock each other out past the busy timeout (database is locked).", {
  id: "sqlite-lock",
  title: "SQLite lock contention: writes fail with 'database is locked'",
  severity: "error",
  events: (e) => e.event === "db.locked" && !(typeof e.fields.waitedMs === "number" && e.fields.waitedMs < INSTANT_LOCK_MS),
  eventLabel: "db.locked / 'database is locked'",
  detail: (ev) => {
    const w = max(numbers(ev, "waitedMs"));
    const paths = [...new Set(ev.map((e) => e.record.fields.path).filter((p) => typeof p === "string"))].slice(0, 3);
    return `${w !== undefined ? `Longest wait ${w} ms. ` : ""}${paths.length ? `Database: ${paths.join(", ")}.` : ""}`;
  },
  fix: {
    summary:
      "Let one writer per process own the file: holdfast runs SQLite writes on a single writer thread with BEGIN IMMEDIATE and WAL, so only other processes can hold the lock. Keep write transactions short, run batch jobs outside peak, keep the busy timeout below the request deadline, or move to PostgreSQL for many writers.",
    holdfast: `db: { url: "sqlite:./data/app.db", sqlite: { busyTimeout: "5s" } }\ntimeouts: { deadline: "25s" }`,
  },
});
