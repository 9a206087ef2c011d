/**
 * Application log reader: holdfast's own JSON lines (pino), and the plain-text lines from other
 * stacks that explain 502s — gunicorn WORKER TIMEOUT, SQLite "database is locked", knex
 * "Timeout acquiring a connection", pg "timeout exceeded when trying to connect", PostgreSQL
 * "too many clients", Node heap exhaustion, EMFILE/ENOSPC. Foreign lines are mapped onto the
 * holdfast event names so one set of rules reads both. Unknown JSON events are kept as generic records.
 */
import type { AppRecord } from "../types.js";
import { type LogReader, neverThrows, parseIsoTime } from "./reader.js";

const PINO_LEVELS: Record<number, string> = { 10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal" };

/** Plain-text signatures, first match wins: [pattern, event, origin]. */
const TEXT_RULES: [RegExp, string, string][] = [
  [/WORKER TIMEOUT \(pid:(\d+)\)/, "worker.timeout", "gunicorn"],
  [/Worker \(pid:(\d+)\) was sent (SIG[A-Z]+)/, "worker.exit", "gunicorn"],
  [/Worker \(pid:(\d+)\) exited with code (\d+)/, "worker.exit", "gunicorn"],
  [/Booting worker with pid: (\d+)/, "worker.start", "gunicorn"],
  [/Reason: Worker failed to boot|Shutting down: Master/, "worker.crashloop", "gunicorn"],
  [/SQLITE_BUSY_SNAPSHOT|SQLITE_BUSY\b(?!.*locked)/, "db.busy", "sqlite"],
  [/database is locked|SQLITE_BUSY|SQLITE_LOCKED/, "db.locked", "sqlite"],
  [/Timeout acquiring a connection/, "pool.timeout", "knex"],
  [/timeout exceeded when trying to connect/, "pool.timeout", "pg"],
  [/Connection is not available, request timed out/, "pool.timeout", "hikari"],
  [/QueuePool limit of size \d+ overflow \d+ reached/, "pool.timeout", "sqlalchemy"],
  [/too many clients|remaining connection slots are reserved/, "db.too-many-clients", "postgres"],
  [/JavaScript heap out of memory|Reached heap limit|Out of memory: Killed process|MemoryError/, "memory.oom", "node"],
  [/EMFILE|Too many open files/, "fd.limit", "os"],
  [/ENOSPC|No space left on device|database or disk is full|SQLITE_FULL/, "disk.full", "os"],
];

const TEXT_TIME = /(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,6}))?\s*(Z|[+-]\d\d:?\d\d)?/;
const GUNICORN_PID = /^\[[^\]]+\] \[(\d+)\]/;

/** Time written in a plain-text line; `zoneless` when it had no zone (read as local time). */
function textTime(line: string): { time: number; zoneless: boolean } {
  const m = TEXT_TIME.exec(line);
  if (!m) return { time: Number.NaN, zoneless: false };
  return { time: textTimeOf(m), zoneless: !m[8] };
}

function textTimeOf(m: RegExpExecArray): number {
  const ms = m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0;
  const parts = [+(m[1] as string), +(m[2] as string) - 1, +(m[3] as string), +(m[4] as string), +(m[5] as string), +(m[6] as string), ms] as const;
  if (!m[8]) return new Date(...parts).getTime();
  let t = Date.UTC(...parts);
  if (m[8] !== "Z") {
    const z = m[8].replace(":", "");
    t -= (z[0] === "-" ? -1 : 1) * (Number(z.slice(1, 3)) * 60 + Number(z.slice(3, 5))) * 60_000;
  }
  return t;
}

function parseJson(line: string): AppRecord | null {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof o !== "object" || o === null || Array.isArray(o)) return null;
  const r = o as Record<string, unknown>;
  const time = typeof r.time === "number" ? r.time : typeof r.time === "string" ? parseIsoTime(r.time) : Number.NaN;
  if (Number.isNaN(time)) return null;
  const level = typeof r.level === "string" ? r.level : typeof r.level === "number" ? PINO_LEVELS[r.level] : undefined;
  let event = typeof r.event === "string" ? r.event : undefined;
  const msg = typeof r.msg === "string" ? r.msg : "";
  if (!event) {
    // A JSON line from another Node stack: classify its message like plain text.
    for (const [re, ev] of TEXT_RULES) if (re.test(msg) || (typeof r.err === "object" && re.test(JSON.stringify(r.err)))) event = ev;
    event ??= "log";
  }
  const reqId = typeof r.reqId === "string" ? r.reqId : typeof r.req_id === "string" ? r.req_id : undefined;
  return { source: "app", time, event, level, pid: typeof r.pid === "number" ? r.pid : undefined, reqId, origin: typeof r.event === "string" ? "holdfast" : "json", fields: r };
}

function parseText(line: string): AppRecord | null {
  for (const [re, event, origin] of TEXT_RULES) {
    const m = re.exec(line);
    if (!m) continue;
    const fields: Record<string, unknown> = { msg: line.length > 500 ? line.slice(0, 500) : line };
    const pid = Number(GUNICORN_PID.exec(line)?.[1]);
    if (origin === "gunicorn" && m[1]) fields.workerPid = Number(m[1]);
    if (event === "worker.exit" && m[2]) {
      if (m[2].startsWith("SIG")) fields.signal = m[2];
      else fields.code = Number(m[2]);
    }
    if (event === "worker.timeout") fields.reason = "timeout";
    const { time, zoneless } = textTime(line);
    return { source: "app", time, event, level: undefined, pid: Number.isNaN(pid) ? undefined : pid, reqId: undefined, origin, fields, zoneless };
  }
  return null;
}

/** Parses one application log line; null for lines that say nothing the doctor uses. */
export function parseAppLine(line: string): AppRecord | null {
  let i = 0;
  while (i < line.length && line.charCodeAt(i) === 32) i++;
  return line.charCodeAt(i) === 123 ? (parseJson(line) ?? parseText(line)) : parseText(line);
}

/** The application log reader. */
export const appLogReader: LogReader<AppRecord> = {
  kind: "app",
  parse: neverThrows(parseAppLine),
};
