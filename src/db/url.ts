/** Database URLs: `sqlite:./data/app.db`, `sqlite:///abs/path.db`, `sqlite::memory:`, `postgres://…`. */
import { isAbsolute, resolve } from "node:path";
import { sqliteUrlPath, sqliteUrlProblem } from "../config/sqlite-url.js";
import { errors } from "../errors/index.js";
import { redactUrl } from "../telemetry/index.js";

/** A parsed database URL. */
export type DatabaseTarget = { dialect: "sqlite" /** Absolute file path, or ":memory:". */; path: string; url: string } | { dialect: "postgres"; url: string };

/** Parses a database URL; relative SQLite paths resolve against `cwd`. */
export function parseDatabaseUrl(url: string, cwd = process.cwd()): DatabaseTarget {
  if (/^postgres(ql)?:\/\//i.test(url)) return { dialect: "postgres", url };
  const rest = sqliteUrlPath(url) ?? (/\.(db|sqlite3?|db3)$/i.test(url) ? url : undefined);
  if (rest === undefined) {
    throw errors.configInvalid(
      `Database URL ${JSON.stringify(redactUrl(url))} is not one holdfast can open. Use "sqlite:./data/app.db", "sqlite::memory:" or "postgres://user@host:5432/db".`,
    );
  }
  // An empty path would silently open a throw-away in-memory database: refuse it rather than guess.
  const problem = sqliteUrlProblem(url, 1);
  if (problem) throw errors.configInvalid(problem);
  if (rest === ":memory:") return { dialect: "sqlite", path: ":memory:", url: "sqlite::memory:" };
  const path = isAbsolute(rest) ? rest : resolve(cwd, rest);
  return { dialect: "sqlite", path, url: `sqlite:${path}` };
}
