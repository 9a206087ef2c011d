/**
 * SQLite probe: journal mode, quick_check, WAL size, busy timeout, freelist, read through the db
 * part's own inspection (opened read-only), so the doctor and `holdfast db status` read a file alike.
 */
import { inspectSqlite } from "../../db/index.js";

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

/** Probes one SQLite file without writing to it. */
export function probeSqlite(path: string, busyTimeoutMs?: number): SqliteProbe {
  const i = inspectSqlite(path, { readonly: true, quickCheck: true });
  return {
    path,
    journalMode: i.journalMode,
    quickCheck: i.quickCheck,
    walBytes: i.walBytes,
    dbBytes: i.fileBytes,
    busyTimeoutMs,
    freelistCount: i.freelistCount,
    pageCount: i.pageCount,
    pageSize: i.pageSize,
  };
}
