/**
 * What `holdfast db` does to a SQLite file, on a short-lived connection of its own: inspect,
 * check, checkpoint, optimize, online backup. Never creates a missing database and never
 * writes to a file that is not one.
 */
import { existsSync, statSync } from "node:fs";
import { dbDefaults } from "../../config/defaults.js";
import { errors } from "../../errors/index.js";
import { type Connection, openConnection, walBytes } from "./connection.js";
import { mapSqliteError } from "./sqlite-errors.js";
import type { CheckpointMode } from "./protocol.js";

/** Persistent facts about a SQLite file. */
export interface SqliteInspection {
  path: string;
  fileBytes: number;
  walBytes: number;
  journalMode: string;
  pageSize: number;
  pageCount: number;
  freelistCount: number;
  autoVacuum: string;
  userVersion: number;
  sqliteVersion: string;
  tables: number;
  /** PRAGMA quick_check's first line ("ok" when clean), when asked for. */
  quickCheck?: string | undefined;
}

/** What {@link inspectSqlite} also does. */
export interface InspectOptions {
  /** Open read-only, so a look (the doctor's probe) can never write to the file. Default false. */
  readonly?: boolean | undefined;
  /** Also run PRAGMA quick_check. Default false. */
  quickCheck?: boolean | undefined;
}

/** A check finding. */
export interface SqliteProblem {
  severity: "error" | "warning";
  message: string;
}

/** What `holdfast db check` reports. */
export interface SqliteCheckReport extends SqliteInspection {
  /** "quick_check" or "integrity_check". */
  check: string;
  /** The check's own lines ("ok" when clean). */
  checkResult: string[];
  foreignKeyViolations: number;
  problems: SqliteProblem[];
  ok: boolean;
}

function open(path: string, readonly: boolean): Connection {
  if (!existsSync(path)) {
    throw errors.dbUnavailable(
      `There is no SQLite database at ${path}. Check the path (relative paths are resolved from ${process.cwd()}); holdfast db never creates one.`,
      { details: { path } },
    );
  }
  return openConnection(path, { role: "admin", readonly, lockSliceMs: 2000, busyTimeout: dbDefaults.sqlite.busyTimeout });
}

function inspect(db: Connection, path: string): SqliteInspection {
  const p = (name: string) => db.pragma(name, { simple: true });
  return {
    path,
    fileBytes: statSync(path).size,
    walBytes: walBytes(path),
    journalMode: String(p("journal_mode")),
    pageSize: Number(p("page_size")),
    pageCount: Number(p("page_count")),
    freelistCount: Number(p("freelist_count")),
    autoVacuum: ["none", "full", "incremental"][Number(p("auto_vacuum"))] ?? "unknown",
    userVersion: Number(p("user_version")),
    sqliteVersion: String((db.prepare("SELECT sqlite_version() AS v").get() as { v: string }).v),
    tables: Number((db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'").get() as { n: number }).n),
  };
}

/** Persistent settings and sizes of the file (what `holdfast db status` shows and the doctor probes). */
export function inspectSqlite(path: string, options: InspectOptions = {}): SqliteInspection {
  const db = open(path, options.readonly ?? false);
  try {
    const info = inspect(db, path);
    if (options.quickCheck) info.quickCheck = String(db.pragma("quick_check", { simple: true }));
    return info;
  } catch (err) {
    throw mapSqliteError(err, path);
  } finally {
    db.close();
  }
}

/** quick_check (or integrity_check with `full`), foreign keys, journal mode and WAL size. */
export function checkSqlite(path: string, options: { full?: boolean; walLimit?: number } = {}): SqliteCheckReport {
  const db = open(path, false);
  try {
    const info = inspect(db, path);
    const check = options.full ? "integrity_check" : "quick_check";
    const checkResult = (db.pragma(check) as Record<string, string>[]).map((r) => String(Object.values(r)[0]));
    const foreignKeyViolations = (db.pragma("foreign_key_check") as unknown[]).length;
    const problems: SqliteProblem[] = [];
    if (!(checkResult.length === 1 && checkResult[0] === "ok")) {
      problems.push({
        severity: "error",
        message: `${check} found ${checkResult.length} problem(s), first: ${checkResult[0]}. Stop writers, take a copy (\`holdfast db backup\`), and restore from a known-good backup; \`sqlite3 ${path} .recover\` can salvage rows.`,
      });
    }
    if (foreignKeyViolations > 0) {
      problems.push({
        severity: "error",
        message: `${foreignKeyViolations} row(s) violate foreign keys (PRAGMA foreign_key_check). They were written with foreign_keys off; fix or delete them.`,
      });
    }
    if (info.journalMode !== "wal") {
      problems.push({
        severity: "warning",
        message: `journal_mode is "${info.journalMode}", not "wal": readers and the writer block each other. holdfast switches it to WAL when it opens the database.`,
      });
    }
    const limit = options.walLimit ?? dbDefaults.sqlite.journalSizeLimit;
    if (limit > 0 && info.walBytes > limit * 2) {
      problems.push({
        severity: "warning",
        message: `The WAL is ${info.walBytes} bytes, over twice db.sqlite.journalSizeLimit (${limit}): checkpoints are not keeping up (a long-lived reader, or no process checkpointing). Run \`holdfast db checkpoint sqlite:${path}\`.`,
      });
    }
    if (info.pageCount > 0 && info.freelistCount / info.pageCount > 0.5) {
      problems.push({
        severity: "warning",
        message: `${info.freelistCount} of ${info.pageCount} pages are free: the file is mostly empty space. VACUUM (with writers stopped) would shrink it.`,
      });
    }
    return { ...info, check, checkResult, foreignKeyViolations, problems, ok: !problems.some((p) => p.severity === "error") };
  } catch (err) {
    throw (err as { httpStatus?: number }).httpStatus ? err : mapSqliteError(err, path);
  } finally {
    db.close();
  }
}

/** Runs a checkpoint now (TRUNCATE by default: the WAL shrinks to zero when no reader holds it). */
export function checkpointSqlite(
  path: string,
  mode: CheckpointMode = "TRUNCATE",
): { mode: CheckpointMode; busy: number; log: number; checkpointed: number; walBytesBefore: number; walBytesAfter: number } {
  const db = open(path, false);
  try {
    const before = walBytes(path);
    const row = (db.pragma(`wal_checkpoint(${mode})`) as { busy: number; log: number; checkpointed: number }[])[0] ?? { busy: 0, log: 0, checkpointed: 0 };
    return { mode, ...row, walBytesBefore: before, walBytesAfter: walBytes(path) };
  } catch (err) {
    throw mapSqliteError(err, path);
  } finally {
    db.close();
  }
}

/** Runs PRAGMA optimize (refreshes the planner's statistics where they are stale). */
export function optimizeSqlite(path: string): { ms: number } {
  const db = open(path, false);
  const t = performance.now();
  try {
    db.pragma("optimize = 0x10002");
    return { ms: Math.round(performance.now() - t) };
  } catch (err) {
    throw mapSqliteError(err, path);
  } finally {
    db.close();
  }
}

/** Copies the database with SQLite's online backup API (safe while the app keeps writing). */
export async function backupSqlite(
  path: string,
  dest: string,
  options: { force?: boolean } = {},
): Promise<{ dest: string; totalPages: number; bytes: number; ms: number }> {
  if (existsSync(dest) && !options.force) {
    throw errors.usage(`${dest} already exists; holdfast db backup never overwrites a file. Choose another destination or pass --force.`);
  }
  const db = open(path, false);
  const t = performance.now();
  try {
    const r = await db.backup(dest);
    return { dest, totalPages: r.totalPages, bytes: statSync(dest).size, ms: Math.round(performance.now() - t) };
  } catch (err) {
    throw (err as { httpStatus?: number }).httpStatus ? err : mapSqliteError(err, dest);
  } finally {
    db.close();
  }
}
