/** Checks a SQLite path before any thread opens it, so an error names the real problem. */
import { accessSync, constants, existsSync, mkdirSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { errors } from "../../errors/index.js";

/** Creates a missing directory; refuses a directory in place of the file, or a file or directory this process cannot write. */
export function prepareFile(path: string): void {
  if (path === ":memory:") return;
  const dir = dirname(path);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  if (existsSync(path)) {
    if (statSync(path).isDirectory()) {
      throw errors.dbUnavailable(`${path} is a directory, not a SQLite database file. Point db.url at a file, e.g. sqlite:${path}/app.db.`);
    }
    try {
      accessSync(path, constants.R_OK | constants.W_OK);
    } catch {
      throw errors.dbUnavailable(
        `${path} is not readable and writable by this process (uid ${process.getuid?.() ?? "?"}). holdfast needs to read and write the file and create ${path}-wal and ${path}-shm beside it: check \`ls -l ${path}*\` and the directory's permissions.`,
        { details: { path } },
      );
    }
  }
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw errors.dbUnavailable(
      `The directory ${dir} is not writable by this process; SQLite must create ${path}-wal and ${path}-shm there. Fix its owner or mode, or move the database.`,
      { details: { path } },
    );
  }
}
