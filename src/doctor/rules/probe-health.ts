/**
 * Findings from live probes that no log-based rule covers: SQLite journal mode, integrity, busy
 * timeout and freelist; PostgreSQL idle-in-transaction sessions, lock waits, long queries; host load and memory.
 */
import type { Correlation, Dataset, Finding, Rule } from "../types.js";
import { probeTime } from "./evidence.js";

export const probeHealth: Rule = {
  id: "probe-health",
  summary: "Live health of SQLite, PostgreSQL and the host from the probes.",
  run(data: Dataset, _corr: Correlation): Finding[] {
    const out: Finding[] = [];
    for (const p of data.probes.sqlite ?? []) {
      if (p.quickCheck !== undefined && p.quickCheck !== "ok") {
        out.push({
          id: "sqlite-corrupt",
          title: `SQLite integrity check failed on ${p.path}`,
          severity: "critical",
          confidence: 0.95,
          explains: 0,
          evidence: { summary: `PRAGMA quick_check returned: ${p.quickCheck.slice(0, 300)}`, counts: {}, samples: [] },
          fix: {
            summary:
              "Stop writers, copy the file, and recover with `sqlite3 app.db .recover | sqlite3 fixed.db`; restore from backup if that fails. The doctor never rewrites a damaged database.",
          },
        });
      }
      if (p.journalMode && p.journalMode !== "wal") {
        out.push({
          id: "sqlite-not-wal",
          title: `SQLite ${p.path} is in ${p.journalMode} journal mode`,
          severity: "warning",
          confidence: 0.9,
          explains: 0,
          evidence: {
            summary: `journal_mode=${p.journalMode}: every write blocks every read, which turns load into 'database is locked'.`,
            counts: {},
            samples: [],
          },
          fix: {
            summary: "Switch to WAL (persistent, done once). `holdfast doctor --fix --yes` backs up first, then switches.",
            holdfast: "// holdfast opens SQLite in WAL mode itself",
            action: { kind: "sqlite-wal", path: p.path },
          },
        });
      }
      if (p.freelistCount !== undefined && p.pageCount && p.freelistCount / p.pageCount > 0.25 && p.pageCount > 1000) {
        out.push({
          id: "sqlite-freelist",
          title: `SQLite ${p.path}: ${Math.round((p.freelistCount / p.pageCount) * 100)} % of pages are free`,
          severity: "info",
          confidence: 0.9,
          explains: 0,
          evidence: {
            summary: `${p.freelistCount} free of ${p.pageCount} pages; the file is larger than its data.`,
            counts: { freelist: p.freelistCount, pages: p.pageCount },
            samples: [],
          },
          fix: {
            summary: "Run VACUUM in a quiet hour (it rewrites the file and needs that much free disk); PRAGMA optimize is run by --fix.",
            action: { kind: "sqlite-optimize", path: p.path },
          },
        });
      }
    }
    const pg = data.probes.postgres;
    if (pg) {
      if ((pg.idleInTransaction ?? 0) > 0)
        out.push({
          id: "pg-idle-in-transaction",
          title: "PostgreSQL sessions idle in transaction",
          severity: "warning",
          confidence: 0.8,
          explains: 0,
          evidence: {
            summary: `${pg.idleInTransaction} sessions hold a transaction open and do nothing (oldest ${pg.oldestIdleInTransactionS ?? "?"} s): they hold locks and pool connections.`,
            counts: { idleInTransaction: pg.idleInTransaction ?? 0 },
            samples: [],
          },
          fix: {
            summary: "Find the code that opens a transaction and then awaits something slow; set a server-side cap.",
            holdfast: "-- PostgreSQL: ALTER SYSTEM SET idle_in_transaction_session_timeout = '30s'; SELECT pg_reload_conf();",
          },
        });
      if ((pg.waitingLocks ?? 0) > 0)
        out.push({
          id: "pg-lock-waits",
          title: "PostgreSQL queries waiting on locks",
          severity: "warning",
          confidence: 0.7,
          explains: 0,
          evidence: { summary: `${pg.waitingLocks} sessions wait for a lock right now.`, counts: { waitingLocks: pg.waitingLocks ?? 0 }, samples: [] },
          fix: {
            summary:
              "Find the blocker: SELECT pid, pg_blocking_pids(pid), query FROM pg_stat_activity WHERE wait_event_type = 'Lock'; keep transactions short; set lock_timeout.",
            holdfast: "-- ALTER ROLE app SET lock_timeout = '5s';",
          },
        });
      if (pg.longQueries?.length)
        out.push({
          id: "pg-long-queries",
          title: "Long-running PostgreSQL queries",
          severity: "warning",
          confidence: 0.7,
          explains: 0,
          evidence: {
            summary: `${pg.longQueries.length} queries running longer than 30 s, longest ${Math.round(pg.longQueries[0]?.seconds ?? 0)} s: ${pg.longQueries[0]?.query.slice(0, 120) ?? ""}`,
            counts: { longQueries: pg.longQueries.length },
            samples: [],
          },
          fix: { summary: "Cap statements below the request deadline.", holdfast: `db: { statementTimeout: "20s" }` },
        });
    }
    const sys = data.probes.system;
    if (sys) {
      const t = probeTime(data, sys.at);
      if (sys.cpus > 0 && (sys.load[0] as number) > sys.cpus * 2)
        out.push({
          id: "host-load",
          title: t.stale ? "Host overloaded now (live probe; not about the logs)" : "Host overloaded now (live probe)",
          severity: t.stale ? "info" : "warning",
          confidence: 0.6,
          explains: 0,
          evidence: { summary: `Load average ${t.now}: ${sys.load.map((l) => l.toFixed(1)).join(" ")} on ${sys.cpus} CPUs.${t.note}`, counts: {}, samples: [] },
          fix: {
            summary: "More runnable work than CPUs: find what uses them (top, pidstat), add capacity, or let admission control shed load early.",
            holdfast: `admission: { mode: "adaptive" }`,
          },
        });
      if (sys.memTotal > 0 && sys.memAvailable / sys.memTotal < 0.05)
        out.push({
          id: "host-memory",
          title: t.stale ? "Host nearly out of memory now (live probe; not about the logs)" : "Host nearly out of memory now (live probe)",
          severity: t.stale ? "info" : "error",
          confidence: 0.7,
          explains: 0,
          evidence: {
            summary: `Memory available ${t.now}: ${(sys.memAvailable / 1024 / 1024).toFixed(0)} MB of ${(sys.memTotal / 1024 / 1024 / 1024).toFixed(1)} GB; the OOM killer is next.${t.note}`,
            counts: {},
            samples: [],
          },
          fix: { summary: "Cap worker memory and recycle, or reduce workers.", holdfast: `recycle: { maxRss: "512MB" }` },
        });
    }
    return out;
  },
};
