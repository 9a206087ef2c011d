/**
 * Which stack wrote the app log, read from the events' origins (gunicorn, knex, HikariCP, …) and
 * the language of their stack traces, so a fix can name that stack's own flags and options
 * instead of holdfast's or another runtime's.
 */
import type { AppRecord, Dataset, Located } from "./types.js";

/** App servers the doctor knows the flags of. */
export type AppServer = "holdfast" | "gunicorn" | "uwsgi" | "puma" | "node" | "java" | "unknown";
/** Database libraries the doctor knows the options of. */
export type DbLibrary = "holdfast" | "python-sqlite3" | "sqlalchemy" | "knex" | "pg-pool" | "hikari" | "activerecord" | "node-sqlite" | "unknown";

/** What the logs say about the app's stack. */
export interface Stack {
  server: AppServer;
  language: "python" | "node" | "java" | "ruby" | "unknown";
  /** Libraries seen, most events first. */
  libraries: DbLibrary[];
  /** True when the app log was read and none of its events is holdfast's: another stack wrote it, even if the doctor cannot name it. */
  foreign?: boolean | undefined;
}

const SERVER_BY_ORIGIN: Record<string, AppServer> = {
  holdfast: "holdfast",
  gunicorn: "gunicorn",
  uwsgi: "uwsgi",
  puma: "puma",
  hikari: "java",
  spring: "java",
};
const LIBRARY_BY_ORIGIN: Record<string, DbLibrary> = { knex: "knex", pg: "pg-pool", hikari: "hikari", sqlalchemy: "sqlalchemy", activerecord: "activerecord" };

/** The stack of some events (all of them when none given). */
export function detectStack(data: Dataset, events: Located<AppRecord>[] = data.appEvents): Stack {
  const servers = new Map<AppServer, number>();
  const libs = new Map<DbLibrary, number>();
  const langs = new Map<Stack["language"], number>();
  const bump = <K>(m: Map<K, number>, k: K) => m.set(k, (m.get(k) ?? 0) + 1);
  let holdfastEvents = 0;
  // The server is read from every event (gunicorn's arbiter lines are not the lock errors).
  for (const e of data.appEvents) {
    if (e.record.origin === "holdfast") holdfastEvents++;
    const s = SERVER_BY_ORIGIN[e.record.origin];
    if (s) bump(servers, s);
    const lang = e.record.fields.language;
    if (lang === "python" || lang === "node" || lang === "java" || lang === "ruby") bump(langs, lang);
  }
  for (const e of events) {
    const r = e.record;
    const lib = LIBRARY_BY_ORIGIN[r.origin];
    if (lib) bump(libs, lib);
    else if (r.origin === "holdfast") bump(libs, "holdfast");
    else if (r.event === "db.locked" || r.event === "db.busy") {
      const lang = r.fields.language;
      const text = typeof r.fields.exception === "string" ? r.fields.exception : "";
      if (lang === "python" || /sqlite3\.OperationalError/.test(text)) bump(libs, /sqlalchemy/i.test(text) ? "sqlalchemy" : "python-sqlite3");
      else if (lang === "ruby" || /ActiveRecord|SQLite3::BusyException/.test(text)) bump(libs, "activerecord");
      else if (lang === "node" || /SQLITE_BUSY/.test(text)) bump(libs, "node-sqlite");
    }
  }
  const top = <K>(m: Map<K, number>): K | undefined => [...m].sort((a, b) => b[1] - a[1])[0]?.[0];
  const server = top(servers) ?? "unknown";
  const language =
    top(langs) ??
    (server === "gunicorn" || server === "uwsgi"
      ? "python"
      : server === "puma"
        ? "ruby"
        : server === "java"
          ? "java"
          : server === "holdfast"
            ? "node"
            : "unknown");
  const libraries = [...libs].sort((a, b) => b[1] - a[1]).map(([k]) => k);
  if (libraries.length === 0 && language === "python" && events.some((e) => e.record.event === "db.locked")) libraries.push("python-sqlite3");
  // Every record read counts (successful requests are counted, not kept): a log of another stack's request lines is foreign too.
  const read = Object.entries(data.appOrigins ?? {});
  const foreign = read.length > 0 ? !read.some(([o, n]) => o === "holdfast" && n > 0) : data.appEvents.length > 0 && holdfastEvents === 0;
  return { server, language, libraries, foreign };
}

/** True when the app is holdfast itself (or no app log says otherwise), so holdfast's config keys apply. */
export function isHoldfast(s: Stack): boolean {
  return (
    s.server === "holdfast" || (s.server === "unknown" && !s.foreign && s.language === "unknown" && (s.libraries.length === 0 || s.libraries[0] === "holdfast"))
  );
}
