/**
 * SQLite lock contention: writers waited past the busy timeout ("database is locked",
 * holdfast db.locked). Usually several processes writing the same file, or long write transactions.
 */
import { detectStack } from "../stack.js";
import type { AppRecord, Dataset, Fix, Located, Rule } from "../types.js";
import { appEventRule, type Explained, max, numbers, sheddingWait } from "./app-event-rule.js";
import { lockWaitFix, speaksHoldfast } from "./stack-fixes.js";

/** A lock error that came faster than this was not a busy-timeout wait (see sqlite-deferred-busy). */
export const INSTANT_LOCK_MS = 5;
/** A request that failed on the lock this soon (its whole time, as the app logged it) did not wait out any busy timeout. */
export const INSTANT_REQUEST_MS = 250;

/** True for a lock error that came back at once: the wait was measured short, or the whole request was. */
export function instantLock(fields: Record<string, unknown>): boolean {
  return (
    (typeof fields.waitedMs === "number" && fields.waitedMs < INSTANT_LOCK_MS) ||
    (typeof fields.requestMs === "number" && fields.requestMs < INSTANT_REQUEST_MS)
  );
}

export const sqliteLock: Rule = appEventRule("SQLite writers lock each other out past the busy timeout (database is locked).", {
  id: "sqlite-lock",
  title: "SQLite lock contention: writes fail with 'database is locked'",
  severity: "error",
  events: (e) => e.event === "db.locked" && !instantLock(e.fields),
  eventLabel: "db.locked / 'database is locked'",
  detail: (ev) => {
    const w = max(numbers(ev, "waitedMs"));
    const paths = [...new Set(ev.map((e) => e.record.fields.path).filter((p) => typeof p === "string"))].slice(0, 3);
    return `${w !== undefined ? `Longest wait ${w} ms. ` : ""}${paths.length ? `Database: ${paths.join(", ")}.` : ""}`;
  },
  fix: lockFix,
});

/**
 * The lock fix in the words of the stack that logged the errors; the busy timeout stays below the
 * proxy's read timeout. When the app answered the failures itself (its wait already ends first),
 * the advice keeps the wait the logs show rather than moving it to a computed value.
 */
function lockFix(data: Dataset, events: Located<AppRecord>[], explained?: Explained): Fix {
  const stack = detectStack(data, events);
  const rt = data.timeouts?.proxyReadTimeout;
  const current = sheddingWait(data, events, explained);
  const keep = current !== undefined ? Math.max(100, Math.round(current / 100) * 100) : undefined;
  const busy = keep ?? (rt !== undefined ? Math.max(500, Math.min(5000, rt - Math.max(1000, Math.round(rt * 0.2)))) : 5000);
  const deadline = data.timeouts?.deadline ?? (rt !== undefined ? Math.max(busy + 500, rt - 1000) : 25_000);
  const own = lockWaitFix(stack, busy);
  const writers = speaksHoldfast(stack)
    ? "Let one writer per process own the file: holdfast runs SQLite writes on a single writer thread with BEGIN IMMEDIATE and WAL, so only other processes can hold the lock."
    : "Use WAL (readers stop blocking the writer) and begin write transactions with BEGIN IMMEDIATE, so a writer waits for the lock up front instead of failing half-way.";
  const timeout =
    keep !== undefined
      ? `The app already gives up on the lock before the proxy does (it answered these requests itself after ≈ ${keep / 1000} s${rt !== undefined ? `, below the proxy's ${rt / 1000} s` : ""}): keep that busy timeout; the lock was held too long by another writer.`
      : `Keep the busy timeout (${busy / 1000} s) below the ${rt !== undefined ? `proxy's read timeout (${rt / 1000} s)` : "request deadline"}.`;
  return {
    summary: `${writers} ${timeout} Keep write transactions short, run batch jobs outside peak, or move to PostgreSQL for many writers.`,
    holdfast: speaksHoldfast(stack)
      ? keep !== undefined
        ? `db: { sqlite: { busyTimeout: "${keep / 1000}s" } }   // keep: measured, already below the proxy's read timeout`
        : `db: { url: "sqlite:./data/app.db", sqlite: { busyTimeout: "${busy / 1000}s" } }\ntimeouts: { deadline: "${deadline / 1000}s" }`
      : undefined,
    stack: own
      ? {
          name: own.name,
          lines: `${keep !== undefined ? `${commentFor(own.name)} keep this value: the app's wait (≈ ${keep / 1000} s, measured) already ends before the proxy's\n` : ""}${own.lines}\n${walLine(own.name)}`,
        }
      : undefined,
  };
}

/** The line-comment marker of the stack's fix lines. */
function commentFor(name: string): string {
  return name.startsWith("python") || name.startsWith("SQLAlchemy") || name.startsWith("Rails") ? "#" : "//";
}

/** How the stack turns on WAL. */
function walLine(name: string): string {
  if (name.startsWith("python") || name.startsWith("SQLAlchemy")) return 'conn.execute("PRAGMA journal_mode=WAL")   # once per database file; persistent';
  if (name.startsWith("Rails")) return "# Rails 7.1+: WAL is the default for new sqlite3 databases; else run PRAGMA journal_mode=WAL once";
  return 'db.pragma("journal_mode = WAL")   // once per database file; persistent';
}
