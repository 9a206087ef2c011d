/**
 * Application log reader. One record is one *event*, which may span several lines (a Python
 * traceback, a Java stack trace with its "Caused by", a Node stack; see app-lines.ts for the
 * grouping): holdfast's own JSON lines (pino), JSON lines of other loggers (pino, winston, bunyan,
 * structlog, python-json-logger, lograge) read with their time and level fields, and plain text
 * from other stacks — gunicorn, uWSGI, Puma, Rails, Flask, Spring/HikariCP, knex, pg, SQLite.
 * Foreign events are mapped onto the holdfast event names so one set of rules reads both.
 */
import type { AppRecord } from "../types.js";
import { type LogReader, neverThrows, parseIsoTime } from "./reader.js";

const PINO_LEVELS: Record<number, string> = { 10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal" };

/** Plain-text signatures, first match wins: [pattern, event, origin]. */
const TEXT_RULES: [RegExp, string, string][] = [
  [/WORKER TIMEOUT \(pid:(\d+)\)/, "worker.timeout", "gunicorn"],
  [/Worker \(pid:(\d+)\) was sent (SIG[A-Z]+)/, "worker.exit", "gunicorn"],
  [/Worker \(pid:(\d+)\) exited with code (\d+)/, "worker.exit", "gunicorn"],
  [/Worker with pid (\d+) was terminated due to signal (\d+)/, "worker.exit", "gunicorn"],
  [/Booting worker with pid: (\d+)/, "worker.start", "gunicorn"],
  // "Shutting down: Master" alone is every normal stop; only a failed boot is a crash loop.
  [/Reason: (?:Worker|App) failed to (?:boot|load)/, "worker.crashloop", "gunicorn"],
  [/\*\*\* HARAKIRI ON WORKER \d+ \(pid: (\d+)/, "worker.timeout", "uwsgi"],
  [/DAMN ! worker \d+ \(pid: (\d+)\) died, killed by signal (\d+)/, "worker.exit", "uwsgi"],
  [/Respawned uWSGI worker \d+ \(new pid: (\d+)\)/, "worker.start", "uwsgi"],
  [/Terminating timed out worker[^:\n]*: (\d+)/, "worker.timeout", "puma"],
  [/SQLITE_BUSY_SNAPSHOT/, "db.busy", "sqlite"],
  [/database is locked|SQLite3::BusyException/, "db.locked", "sqlite"],
  [/SQLITE_BUSY\b(?![\s\S]*locked)/, "db.busy", "sqlite"],
  [/SQLITE_BUSY|SQLITE_LOCKED/, "db.locked", "sqlite"],
  [/Timeout acquiring a connection/, "pool.timeout", "knex"],
  // knex's warning with tarn's stack when an acquire times out; written just before the app's own line for it.
  [/^Acquire connection error: [\s\S]*(?:timed out|TimeoutError)/, "pool.timeout", "knex"],
  [/timeout exceeded when trying to connect/, "pool.timeout", "pg"],
  [/Connection is not available, request timed out/, "pool.timeout", "hikari"],
  [/QueuePool limit of size \d+ overflow \d+ reached/, "pool.timeout", "sqlalchemy"],
  [/ActiveRecord::ConnectionTimeoutError|could not obtain a connection from the pool/, "pool.timeout", "activerecord"],
  [/too many clients|remaining connection slots are reserved/, "db.too-many-clients", "postgres"],
  // A supervisor (a shell loop, systemd) reporting the app's exit: "exited with status 134", "code=exited, status=134".
  [/\bexited(?: with|, code=exited,) (?:status|code)[ =](\d+)/, "worker.exit", "supervisor"],
  [/code=killed, status=(\d+)/, "worker.exit", "supervisor"],
  [/JavaScript heap out of memory|Reached heap limit|Out of memory: Killed process|MemoryError|java\.lang\.OutOfMemoryError/, "memory.oom", "node"],
  [/EMFILE|Too many open files/, "fd.limit", "os"],
  // Python's http.server closing a connection it waited on for a request (its handler timeout): an idle keep-alive close.
  [/Request timed out: (?:TimeoutError|timeout)\b/, "conn.idle-close", "python"],
  // The app (re)started and listens again: ends a restart gap.
  [/\b[Ll]istening (?:on|at)\b/, "worker.start", "text"],
  [/ENOSPC|No space left on device|database or disk is full|SQLITE_FULL/, "disk.full", "os"],
];

const TEXT_TIME = /(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?\s*(Z|UTC|[+-]\d\d:?\d\d)?/;
/** uWSGI's request log: "[Sun Nov 29 16:25:42 2026]". */
const CTIME = /\[?(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +(\d{1,2}) (\d\d):(\d\d):(\d\d) (\d{4})\]?/;
/** Common log format as app servers write it (gunicorn access log, werkzeug): "[29/Nov/2026:16:25:42 +0000]" or "[29/Nov/2026 16:25:42]". */
const CLF_TIME = /\[(\d\d)\/(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\/(\d{4})[: ](\d\d):(\d\d):(\d\d)(?: ([+-]\d{4}))?\]/;
const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };
const GUNICORN_PID = /^\[[^\]]+\] \[(\d+)\]/;
const LEVEL = /\b(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|CRITICAL|FATAL|SEVERE)\b/i;
const RAILS_LEVEL = /^([DIWEF]), \[/;
/** An HTTP request line inside a message: "POST /api/orders". */
const REQUEST = /\b(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) "?(\/[^\s"?]*)/;
/** Flask's "Exception on /api/orders [POST]". */
const FLASK_EXCEPTION = /Exception on (\/\S*) \[([A-Z]+)\]/;
/** An access line an app server wrote: `"POST /api/orders HTTP/1.1" 500` (gunicorn, werkzeug) or uWSGI's `POST /x => … (HTTP/1.1 500)`. */
/** A duration the line states about its request: "failed after 20 ms", "took 5.01 s", "in 5003ms". */
const TOOK = /\b(?:after|took|in) (\d+(?:\.\d+)?) ?(ms|s)\b/;
/** A CLF access line whose quoted request is not "METHOD path HTTP/x": `"{"qty":1}" 400 -`. */
const BAD_REQUEST_ACCESS = /\] "[^\n]*" (\d{3}) (?:-|\d+)\s*$/;
/** Python http.server's log_error line for a refused request. */
const HTTP_SERVER_ERROR = /\] code \d{3}, message /;
const ACCESS_STATUS = /"[A-Z]+ \S+ HTTP\/[\d.]+" (\d{3}) |\(HTTP\/[\d.]+ (\d{3})\)|Completed (\d{3}) /;

const SIGNALS: Record<string, string> = { "1": "SIGHUP", "2": "SIGINT", "6": "SIGABRT", "9": "SIGKILL", "11": "SIGSEGV", "15": "SIGTERM" };

/** "9" → "SIGKILL", "KILL" → "SIGKILL"; the name a signal number stands for. */
function signalName(s: string): string {
  return SIGNALS[s] ?? (s.startsWith("SIG") ? s : /^[A-Z]+$/.test(s) ? `SIG${s}` : `signal ${s}`);
}

function zoneOffsetMs(z: string): number {
  if (z === "Z" || z === "UTC") return 0;
  const s = z.replace(":", "");
  return (s[0] === "-" ? -1 : 1) * (Number(s.slice(1, 3)) * 60 + Number(s.slice(3, 5))) * 60_000;
}

/** Time written in a plain-text event; `zoneless` when it had no zone (read as local time). */
export function textTime(text: string): { time: number; zoneless: boolean } {
  const m = TEXT_TIME.exec(text);
  if (m) {
    const ms = m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0;
    const parts = [+(m[1] as string), +(m[2] as string) - 1, +(m[3] as string), +(m[4] as string), +(m[5] as string), +(m[6] as string), ms] as const;
    if (!m[8]) return { time: new Date(...parts).getTime(), zoneless: true };
    return { time: Date.UTC(...parts) - zoneOffsetMs(m[8]), zoneless: false };
  }
  const c = CLF_TIME.exec(text);
  if (c) {
    const parts = [+(c[3] as string), MONTHS[c[2] as string] as number, +(c[1] as string), +(c[4] as string), +(c[5] as string), +(c[6] as string)] as const;
    if (!c[7]) return { time: new Date(...parts).getTime(), zoneless: true };
    return { time: Date.UTC(...parts) - zoneOffsetMs(c[7]), zoneless: false };
  }
  const u = CTIME.exec(text);
  if (u)
    return {
      time: new Date(+(u[6] as string), MONTHS[u[1] as string] as number, +(u[2] as string), +(u[3] as string), +(u[4] as string), +(u[5] as string)).getTime(),
      zoneless: true,
    };
  return { time: Number.NaN, zoneless: false };
}

/** What a stack trace says: the language, the exception (the root cause for Java) and its message. */
export interface Trace {
  language?: "python" | "java" | "node" | "ruby" | undefined;
  exception?: string | undefined;
  message?: string | undefined;
}

const PY_EXC = /^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Timeout|Warning))(?::\s?(.*))?$/;
const JAVA_EXC = /^(?:Caused by: )?((?:[a-z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error|Throwable)): ?(.*)$/;
const NODE_EXC = /(?:^|\s)([A-Z][A-Za-z]*Error)(?: \[[A-Z_]+\])?: (.*)$/;
const RUBY_EXC = /([A-Z]\w*(?:::[A-Z]\w*)+) \((.*)\)|([A-Z]\w*(?:::[A-Z]\w*)+): (.*)$/;

/** Reads the exception out of an event's lines (one or many). */
export function readTrace(lines: string[]): Trace {
  const text = lines.join("\n");
  if (text.includes("Traceback (most recent call last):")) {
    for (let i = lines.length - 1; i >= 0; i--) {
      const m = PY_EXC.exec((lines[i] as string).trim());
      if (m) return { language: "python", exception: m[1], message: m[2] };
    }
    return { language: "python" };
  }
  if (/^\s+at [\w$.<>]+\(.*(?:\.java:\d+|Native Method|Unknown Source)\)/m.test(text) || /^Caused by: /m.test(text)) {
    let found: Trace = { language: "java" };
    for (const l of lines) {
      const m = JAVA_EXC.exec(l.trim());
      // The last "Caused by" is the root cause; the first exception line stands until one is found.
      if (m && (found.exception === undefined || l.trimStart().startsWith("Caused by:"))) found = { language: "java", exception: m[1], message: m[2] };
    }
    return found;
  }
  if (/^\s+at .*(?:\(|\s)(?:node:|file:|\/|[A-Za-z]:\\).*:\d+:\d+\)?$/m.test(text)) {
    for (const l of lines) {
      const m = NODE_EXC.exec(l);
      if (m) return { language: "node", exception: m[1], message: m[2] };
    }
    return { language: "node" };
  }
  if (/\.rb:\d+:in [`']/.test(text) || /[A-Z]\w*::[A-Z]\w*(?:Error|Exception)/.test(text)) {
    const m = RUBY_EXC.exec(text);
    if (m) return { language: "ruby", exception: m[1] ?? m[3], message: m[2] ?? m[4] };
    return { language: "ruby" };
  }
  const py = PY_EXC.exec((lines[lines.length - 1] ?? "").replace(/^.*?:\s(?=[A-Za-z_][\w.]*(?:Error|Exception):)/, "").trim());
  if (py?.[1]?.includes(".")) return { language: "python", exception: py[1], message: py[2] };
  const node = NODE_EXC.exec(lines[0] ?? "");
  if (node) return { exception: node[1], message: node[2] };
  return {};
}

/** The wait the message itself states, in ms (HikariCP "timed out after 30005ms", SQLAlchemy "timeout 30.00", ActiveRecord "within 5.000 seconds"). */
function statedTimeoutMs(text: string): number | undefined {
  const hikari = /request timed out after (\d+)ms/.exec(text);
  if (hikari) return Number(hikari[1]);
  const sqla = /connection timed out, timeout (\d+(?:\.\d+)?)/.exec(text);
  if (sqla) return Number(sqla[1]) * 1000;
  const ar = /within (\d+(?:\.\d+)?) seconds/.exec(text);
  if (ar) return Number(ar[1]) * 1000;
  return undefined;
}

function levelOf(text: string): string | undefined {
  const r = RAILS_LEVEL.exec(text);
  if (r) return ({ D: "debug", I: "info", W: "warn", E: "error", F: "fatal" } as Record<string, string>)[r[1] as string];
  const m = LEVEL.exec(text.slice(0, 200));
  if (!m) return undefined;
  const l = (m[1] as string).toLowerCase();
  return l === "warning" ? "warn" : l === "critical" || l === "severe" ? "fatal" : l === "notice" ? "info" : l;
}

function requestOf(text: string): { method?: string; path?: string } {
  const f = FLASK_EXCEPTION.exec(text);
  if (f) return { method: f[2], path: f[1] };
  const m = REQUEST.exec(text);
  return m ? { method: m[1], path: m[2] } : {};
}

/** Python's socketserver reporting an exception that escaped a request handler (no time of its own). */
const HANDLER_ERROR = /^Exception occurred during processing of request from /;
/** Writes to a connection the other side had closed: the proxy or client gave up before the app answered. */
const PEER_GONE = /^(?:ConnectionResetError|BrokenPipeError|ConnectionAbortedError)$/;

function parseText(text: string): AppRecord | null {
  const lines = text.split("\n");
  const head = lines[0] as string;
  const { time, zoneless } = textTime(head);
  const trace: Trace = lines.length > 1 || /Error|Exception/.test(head) ? readTrace(lines) : {};
  // The escaped exception is what the handler died of; an error chained before it (a lock error
  // the app answered 500 for) was already logged by the app on its own line.
  if (HANDLER_ERROR.test(head) && trace.exception !== undefined && PEER_GONE.test(trace.exception)) {
    const during = /\n([A-Za-z_][\w.]*(?:Error|Exception))(?::[^\n]*)?\n+During handling of the above exception/.exec(text)?.[1];
    return {
      source: "app",
      time,
      event: "peer.closed",
      level: "error",
      reqId: undefined,
      origin: "python",
      fields: { msg: head, language: "python", exception: trace.exception, message: trace.message, lines: lines.length, ...(during ? { during } : {}) },
      zoneless,
    };
  }
  const fields: Record<string, unknown> = { msg: head.length > 500 ? head.slice(0, 500) : head };
  if (trace.language) fields.language = trace.language;
  if (trace.exception) fields.exception = trace.exception;
  if (trace.message !== undefined) fields.message = trace.message.slice(0, 500);
  if (lines.length > 1) fields.lines = lines.length;
  const req = requestOf(head);
  // "failed after 20 ms", "took 5.01 s": how long the request the line is about ran, on the app's clock.
  const took = TOOK.exec(head);
  const requestMs = took ? Number(took[1]) * (took[2] === "s" ? 1000 : 1) : undefined;
  if (requestMs !== undefined) fields.requestMs = requestMs;
  const startedAt = requestMs !== undefined && Number.isFinite(time) ? time - requestMs : undefined;
  for (const [re, event, origin] of TEXT_RULES) {
    const m = re.exec(text);
    if (!m) continue;
    const pid = Number(GUNICORN_PID.exec(head)?.[1]);
    if ((origin === "gunicorn" || origin === "uwsgi" || origin === "puma") && m[1]) fields.workerPid = Number(m[1]);
    if (event === "worker.exit" && origin === "supervisor" && m[1]) {
      if (/code=killed/.test(m[0])) fields.signal = signalName(m[1]);
      else fields.code = Number(m[1]);
    } else if (event === "worker.exit" && m[2]) {
      if (m[2].startsWith("SIG")) fields.signal = m[2];
      else if (origin === "uwsgi" || /terminated due to signal/.test(m[0])) fields.signal = signalName(m[2]);
      else fields.code = Number(m[2]);
    }
    if (event === "worker.timeout") fields.reason = "timeout";
    // No time of its own, and the app's line for the same failure comes next: collect.ts times it by that line.
    if (origin === "knex" && Number.isNaN(time) && head.startsWith("Acquire connection error:")) fields.precedesItsLine = true;
    const stated = statedTimeoutMs(text);
    if (stated !== undefined) fields.timeoutMs = stated;
    // A Java pool error names HikariCP; a Python one raised through SQLAlchemy keeps its origin for the fix's words.
    const from = origin === "sqlite" && /sqlalchemy/i.test(text) ? "sqlalchemy" : origin;
    return {
      source: "app",
      time,
      event,
      level: levelOf(head) ?? "error",
      pid: Number.isNaN(pid) ? undefined : pid,
      reqId: undefined,
      origin: from,
      fields,
      zoneless,
      startedAt,
      ...req,
    };
  }
  // A handler error whose trace another thread's line cut short: still an error the app reported, timed by the line above.
  if (HANDLER_ERROR.test(head))
    return { source: "app", time, event: "log", level: "error", reqId: undefined, origin: "python", fields: { ...fields, language: "python" }, zoneless };
  if (Number.isNaN(time)) return null;
  // A timed line no signature matches: an app access line (its status), or a generic log event.
  const access = ACCESS_STATUS.exec(head);
  if (access && req.path !== undefined) {
    fields.status = Number(access[1] ?? access[2] ?? access[3]);
    fields.method = req.method;
    fields.path = req.path;
    return { source: "app", time, event: "request", level: "info", reqId: undefined, origin: "text", fields, zoneless, ...req };
  }
  // An access line whose request line was not HTTP (a client that sent garbage): still a request with its status.
  const bad = BAD_REQUEST_ACCESS.exec(head);
  if (bad) {
    fields.status = Number(bad[1]);
    return { source: "app", time, event: "request", level: "info", reqId: undefined, origin: "text", fields, zoneless };
  }
  // Python http.server's log_error for a request it refused ("code 400, message Bad request syntax").
  if (HTTP_SERVER_ERROR.test(head)) return { source: "app", time, event: "log", level: "warn", reqId: undefined, origin: "python", fields, zoneless };
  const level = levelOf(head) ?? (trace.exception ? "error" : undefined);
  if (level === undefined) return null;
  return { source: "app", time, event: "log", level, reqId: undefined, origin: "text", fields, zoneless, ...req };
}

/** Time of a JSON logger's line: pino/bunyan `time`, winston/structlog `timestamp`, ECS `@timestamp`, python-json-logger `asctime`. */
function jsonTime(r: Record<string, unknown>): { time: number; zoneless: boolean } {
  for (const k of ["time", "timestamp", "@timestamp", "asctime", "ts", "created"]) {
    const v = r[k];
    // Epoch: seconds (structlog, python-json-logger `created`) or milliseconds (pino).
    if (typeof v === "number" && Number.isFinite(v)) return { time: v < 1e11 ? Math.round(v * 1000) : v, zoneless: false };
    if (typeof v === "string") {
      const iso = parseIsoTime(v);
      if (!Number.isNaN(iso)) return { time: iso, zoneless: !/(Z|[+-]\d\d:?\d\d)$/.test(v) };
      const t = textTime(v);
      if (!Number.isNaN(t.time)) return t;
    }
  }
  return { time: Number.NaN, zoneless: false };
}

function jsonLevel(r: Record<string, unknown>): string | undefined {
  const v = r.level ?? r.levelname ?? r.severity ?? r["log.level"] ?? r.lvl;
  if (typeof v === "number") return PINO_LEVELS[v];
  if (typeof v !== "string") return undefined;
  const l = v.toLowerCase();
  return l === "warning" ? "warn" : l === "critical" ? "fatal" : l === "err" ? "error" : l;
}

/** holdfast (pino) writes event names like "worker.timeout" and a `msg`; structlog writes its message as `event`. */
const EVENT_NAME = /^[a-z][a-z0-9-]*(?:\.[a-z0-9-]+)*$/;

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
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
  const { time, zoneless } = jsonTime(r);
  if (Number.isNaN(time)) return null;
  const level = jsonLevel(r);
  const holdfast = typeof r.event === "string" && EVENT_NAME.test(r.event) && typeof r.msg === "string";
  let event = holdfast ? (r.event as string) : undefined;
  const msg = str(r.msg) ?? str(r.message) ?? (holdfast ? undefined : str(r.event)) ?? "";
  const req = typeof r.req === "object" && r.req !== null ? (r.req as Record<string, unknown>) : undefined;
  const named = requestOf(msg);
  const method = str(r.method) ?? str(req?.method) ?? named.method;
  const rawPath = str(r.path) ?? str(req?.url) ?? str(r.url) ?? named.path;
  // holdfast's db events carry the database file as `path`: a request path needs its method beside it.
  const path = method !== undefined && rawPath?.startsWith("/") ? rawPath.split("?")[0] : undefined;
  const fields: Record<string, unknown> = r;
  let origin = holdfast ? "holdfast" : "json";
  if (!event) {
    // Errors and stacks as the loggers write them: pino/bunyan `err`, winston `stack`, structlog `exception`, python-json-logger `exc_info`.
    const errText = [r.err, r.error, r.stack, r.exception, r.exc_info]
      .map((v) => (typeof v === "string" ? v : v !== undefined && v !== null ? JSON.stringify(v) : ""))
      .join("\n");
    const text = `${msg}\n${errText}`;
    for (const [re, ev, or] of TEXT_RULES) {
      if (re.test(text)) {
        event = ev;
        origin = or === "sqlite" && /sqlalchemy/i.test(text) ? "sqlalchemy" : or;
        break;
      }
    }
    if (errText.trim()) {
      const t = readTrace(errText.split(/\n|\\n/));
      if (t.language) fields.language = t.language;
      if (t.exception) fields.exception = t.exception;
    }
    const stated = statedTimeoutMs(text);
    if (stated !== undefined) fields.timeoutMs = stated;
    // lograge and request loggers: one line per request with its status.
    if (!event && typeof (r.status ?? r.statusCode ?? (r.res as Record<string, unknown> | undefined)?.statusCode) === "number" && path !== undefined)
      event = "request";
    event ??= "log";
  }
  const status = r.status ?? r.statusCode ?? (r.res as Record<string, unknown> | undefined)?.statusCode;
  if (event === "request" && typeof status === "number" && fields.status === undefined) fields.status = status;
  const reqId = str(r.reqId) ?? str(r.req_id) ?? str(r.request_id) ?? str(r.requestId) ?? str(req?.id);
  return {
    source: "app",
    time,
    event,
    level,
    pid: typeof r.pid === "number" ? r.pid : undefined,
    reqId,
    origin,
    fields,
    method,
    path,
    zoneless: zoneless || undefined,
  };
}

/**
 * Parses one application event: a JSON line, or plain text of one or more lines (joined with
 * "\n"); null for text that says nothing the doctor uses and carries no time.
 */
export function parseAppLine(line: string): AppRecord | null {
  let i = 0;
  while (i < line.length && line.charCodeAt(i) === 32) i++;
  return line.charCodeAt(i) === 123 ? (parseJson(line) ?? parseText(line)) : parseText(line);
}

/** The application log reader (one event: a line, or a group of lines from app-lines.ts). */
export const appLogReader: LogReader<AppRecord> = {
  kind: "app",
  parse: neverThrows(parseAppLine),
};
