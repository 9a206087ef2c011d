/**
 * What a `sqlite:` URL names, read the same way by the config check and by the database
 * opener, so "which file?" has one answer: a file, an in-memory database, or nothing at all.
 */
import { redactUrl } from "../telemetry/index.js";

/** The part of a SQLite URL that names the database: a path, ":memory:", or "" when the URL names none. */
export function sqliteUrlPath(url: string): string | undefined {
  const m = /^sqlite:(.*)$/is.exec(url);
  if (!m) return undefined;
  let rest = m[1] as string;
  // sqlite:///abs/path and sqlite://./rel are both seen in the wild (SQLAlchemy, Prisma); accept them.
  if (rest.startsWith("//")) rest = rest.slice(2);
  return rest.replace(/\?.*$/s, "").trim();
}

/** Why a SQLite URL cannot serve `workers` processes, or undefined when it can (or is not SQLite). */
export function sqliteUrlProblem(url: string, workers: number): string | undefined {
  const path = sqliteUrlPath(url);
  if (path === undefined) return undefined;
  url = redactUrl(url);
  if (path === "") {
    return `db.url = ${JSON.stringify(url)} names no database file. An empty path would open a separate, throw-away in-memory database in every worker (ids repeat, data differ per worker, all lost on restart). Write a file path such as "sqlite:./data/app.db".`;
  }
  if (path === ":memory:" && workers > 1) {
    return `db.url = ${JSON.stringify(url)} with ${workers} workers: each worker process would get its own in-memory database, so requests would see different data depending on the worker that answers, and everything is lost on restart. Use a file ("sqlite:./data/app.db"), or set workers to 1 for a throw-away in-memory database.`;
  }
  return undefined;
}
