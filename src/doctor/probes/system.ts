/** System probe: load, memory, disk free where the database and logs live, fds, ListenOverflows. */
import { readdirSync, readFileSync, statfsSync } from "node:fs";
import { cpus, freemem, loadavg, totalmem } from "node:os";
import { dirname } from "node:path";

/** What the system probe saw. */
export interface SystemProbe {
  /** When the probe ran (epoch ms): its numbers are about this moment, not about the logs. */
  at?: number | undefined;
  load: number[];
  cpus: number;
  memTotal: number;
  memAvailable: number;
  disks: { path: string; freeBytes: number; totalBytes: number }[];
  /** System-wide open file handles vs fs.file-max. */
  fds?: { open: number; limit: number } | undefined;
  /** Open descriptors vs the soft RLIMIT_NOFILE of each process the doctor knows (holdfast supervisor and workers). */
  processFds?: { pid: number; open: number; limit: number }[] | undefined;
  /** TcpExt ListenOverflows during the probe's sampling interval (Linux). */
  listenOverflows?: number | undefined;
  /** TcpExt ListenOverflows since boot, for context. */
  listenOverflowsSinceBoot?: number | undefined;
  somaxconn?: number | undefined;
}

/** Reads TcpExt counters out of /proc/net/netstat text. Pure. */
export function parseNetstat(text: string): Record<string, number> {
  const lines = text.split("\n");
  const out: Record<string, number> = {};
  for (let i = 0; i + 1 < lines.length; i++) {
    const head = lines[i] as string;
    const vals = lines[i + 1] as string;
    if (!head.startsWith("TcpExt:") || !vals.startsWith("TcpExt:")) continue;
    const k = head.split(/\s+/).slice(1);
    const v = vals.split(/\s+/).slice(1);
    k.forEach((name, j) => {
      out[name] = Number(v[j]);
    });
  }
  return out;
}

function memAvailable(): number {
  try {
    const m = /MemAvailable:\s+(\d+) kB/.exec(readFileSync("/proc/meminfo", "utf8"));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return freemem();
}

/** Open fds and the soft "Max open files" limit of a process (Linux /proc); undefined when unreadable. */
export function processFds(pid: number): { pid: number; open: number; limit: number } | undefined {
  try {
    const open = readdirSync(`/proc/${pid}/fd`).length;
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync(`/proc/${pid}/limits`, "utf8"));
    const limit = m && m[1] !== "unlimited" ? Number(m[1]) : Number.POSITIVE_INFINITY;
    return { pid, open, limit };
  } catch {
    return undefined;
  }
}

function readOverflows(): number | undefined {
  try {
    return parseNetstat(readFileSync("/proc/net/netstat", "utf8")).ListenOverflows;
  } catch {
    return undefined; // not Linux
  }
}

/**
 * Probes the host; `paths` are files or directories whose disks matter (database, logs).
 * ListenOverflows is sampled twice `sampleMs` apart: the since-boot total says nothing about now.
 */
export async function probeSystem(paths: string[], sampleMs = 500, pids: number[] = []): Promise<SystemProbe> {
  const disks: SystemProbe["disks"] = [];
  const seen = new Set<string>();
  for (const p of paths) {
    for (const candidate of [p, dirname(p)]) {
      try {
        const s = statfsSync(candidate);
        const key = `${s.type}:${s.blocks}:${s.bfree}`;
        if (!seen.has(key)) {
          seen.add(key);
          disks.push({ path: candidate, freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize });
        }
        break;
      } catch {
        // try the parent directory
      }
    }
  }
  const probe: SystemProbe = { at: Date.now(), load: loadavg(), cpus: cpus().length, memTotal: totalmem(), memAvailable: memAvailable(), disks };
  try {
    const [open, , max] = readFileSync("/proc/sys/fs/file-nr", "utf8").trim().split(/\s+/).map(Number);
    if (open !== undefined && max !== undefined) probe.fds = { open, limit: max };
  } catch {
    // not Linux
  }
  const fds = pids.map(processFds).filter((x): x is NonNullable<typeof x> => x !== undefined);
  if (fds.length) probe.processFds = fds;
  const before = readOverflows();
  if (before !== undefined) {
    await new Promise((r) => setTimeout(r, sampleMs));
    const after = readOverflows() ?? before;
    probe.listenOverflows = after - before;
    probe.listenOverflowsSinceBoot = after;
    try {
      probe.somaxconn = Number(readFileSync("/proc/sys/net/core/somaxconn", "utf8").trim());
    } catch {
      // not Linux
    }
  }
  return probe;
}
