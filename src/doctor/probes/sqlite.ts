/** SQLite probe: journal mode, quick_check, WAL size, busy timeout, freelist — opened read-only. */
import { existsSync, statSync } from "node:fs";
import Database from "better-sqlite3";

/** What the SQLite probe saw. */
export interface SqliteProbe {
  path: string;
  journalMode?: string | undefined;
  quickCheck?: string | undefined;
  walBytes?: number | undefined;
  dbBytes?: number | undefined;
  /** busy_timeout of the probe's own connection is meaningless; this is the configured one, when known. */
  busyTimeoutMs?: number | undefined;
  freelistCount?: number | undefined;
  pageCount?: number | undefined;
  pageSize?: number | undefined;
}

/** Path of a sqlite: URL or a plain path; undefined for other URLs and in-memory databases. */
export function sqlitePath(url: string): string | undefined {
  if (url.startsWith("postgres")) return undefined;
  const p = url.replace(/^sqlite:(\/\/)?/, "");
  return p === ":memory:" || p === "" ? undefined : p;
}

/** Probes one SQLite file without writing to it. */
export function probeSqlite(path: string, busyTimeoutMs?: number): SqliteProbe {
  if (!existsSync(path)) throw new Error(`${path} does not exist`);
  const db = new Database(path, { readonly: true, fileMustExist: true, timeout: 1000 });
  try {
    const pragma = (name: string) => db.pragma(name, { simple: true }) as unknown;
    const wal = `${path}-wal`;
    return {
      path,
      journalMode: String(pragma("journal_mode")),
      quickCheck: String(pragma("quick_check")),
      walBytes: existsSync(wal) ? statSync(wal).size : 0,
      dbBytes: statSync(path).size,
      busyTimeoutMs,
      freelistCount: Number(pragma("freelist_count")),
      pageCount: Number(pragma("page_count")),
      pageSize: Number(pragma("page_size")),
    };
  } finally {
    db.close();
  }
}
