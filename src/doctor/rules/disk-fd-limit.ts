/**
 * Disk full or file-descriptor limit: "(24: Too many open files)", EMFILE, "(28: No space left on
 * device)", SQLITE_FULL; also judged live from the system probe.
 */
import { configDefaults, formatSize } from "../../config/index.js";
import type { Correlation, Dataset, Finding, Rule } from "../types.js";
import { probeTime, sample } from "./evidence.js";

export const diskFdLimit: Rule = {
  id: "disk-fd-limit",
  summary: "Out of disk space or file descriptors (ENOSPC / EMFILE).",
  run(data: Dataset, _corr: Correlation): Finding[] {
    const fdLines = [...data.proxyErrors.filter((e) => e.record.kind === "fd-limit"), ...data.appEvents.filter((e) => e.record.event === "fd.limit")];
    const diskLines = [...data.proxyErrors.filter((e) => e.record.kind === "disk-full"), ...data.appEvents.filter((e) => e.record.event === "disk.full")];
    const sys = data.probes.system;
    const fullDisks = (sys?.disks ?? []).filter((d) => d.totalBytes > 0 && d.freeBytes / d.totalBytes < 0.05);
    const fdHigh =
      sys?.fds && sys.fds.limit > 0 && sys.fds.open / sys.fds.limit > 0.9
        ? sys.fds
        : (sys?.processFds ?? []).find((p) => p.limit > 0 && p.open / p.limit > 0.9);
    const out: Finding[] = [];
    const t = probeTime(data, sys?.at);
    if (fdLines.length || fdHigh) {
      out.push({
        id: "fd-limit",
        title: "Out of file descriptors (Too many open files)",
        severity: "critical",
        confidence: fdLines.length ? 0.9 : 0.6,
        explains: 0,
        evidence: {
          summary: `${fdLines.length} "Too many open files" lines in the logs${fdHigh ? `; ${t.now}: ${fdHigh.open} of ${fdHigh.limit} descriptors in use${"pid" in fdHigh ? ` by pid ${fdHigh.pid}` : " system-wide"}` : ""}. Each failed accept or connect is a refused or reset request.`,
          counts: { lines: fdLines.length, open: fdHigh?.open ?? 0, limit: fdHigh?.limit ?? 0 },
          samples: fdLines.slice(0, 2).map(sample),
        },
        fix: {
          summary: "Raise the descriptor limit for nginx and the app, and look for leaked sockets/files (ls /proc/<pid>/fd | wc -l over time).",
          holdfast: "# systemd unit of holdfast:\nLimitNOFILE=65536",
          nginx: "worker_rlimit_nofile 65536;\nevents { worker_connections 16384; }",
          haproxy: "global\n    maxconn 20000   # HAProxy raises its own fd limit from maxconn",
        },
      });
    }
    if (diskLines.length || fullDisks.length) {
      out.push({
        id: "disk-full",
        title: "Disk full where the database or logs live",
        severity: "critical",
        confidence: diskLines.length ? 0.9 : 0.7,
        explains: 0,
        evidence: {
          summary: `${diskLines.length} "No space left on device" / SQLITE_FULL lines${fullDisks.length ? `; ${t.now}: ${fullDisks.map((d) => `${d.path}: ${(d.freeBytes / 1024 / 1024).toFixed(0)} MB free of ${(d.totalBytes / 1024 / 1024 / 1024).toFixed(1)} GB`).join("; ")}` : ""}. SQLite cannot commit and nginx cannot buffer responses.`,
          counts: { lines: diskLines.length, fullDisks: fullDisks.length },
          samples: diskLines.slice(0, 2).map(sample),
        },
        fix: {
          summary:
            "Free space (rotate and compress logs, remove old backups), truncate the SQLite WAL once readers are gone (holdfast doctor --fix --yes), and alert at 80 % disk use.",
          holdfast: `log: { file: "logs/app.log" }   // rotate with logrotate: daily, compress, rotate 7\ndb: { sqlite: { journalSizeLimit: "${formatSize(configDefaults.db.sqlite.journalSizeLimit)}" } }`,
          nginx: "proxy_max_temp_file_size 0;   # do not spool big responses to disk",
        },
      });
    }
    return out;
  },
};
