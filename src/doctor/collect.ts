/**
 * Reads every log given to the doctor into one {@link Dataset}: failed proxy requests and app
 * events are kept (capped), successful requests only counted, so multi-GB logs fit in memory.
 */
import { appLogReader, textTime } from "./readers/app-log.js";
import { AppLineGrouper } from "./readers/app-lines.js";
import { albReader } from "./readers/alb.js";
import { haproxyReader } from "./readers/haproxy.js";
import { COMBINED_FORMAT, nginxAccessReader, parseFormatTime, type TimeRange } from "./readers/nginx-access.js";
import { nginxErrorReader } from "./readers/nginx-error.js";
import type { LogReader } from "./readers/reader.js";
import { progressBar, scanFile } from "./scan/scan-file.js";
import type { AppRecord, Dataset, FileStats, LogKind, ProxyErrorRecord, ProxyRecord } from "./types.js";

/** One log to read. */
export interface LogInput {
  kind: LogKind;
  file: string;
}

/** Options of {@link collectLogs}. */
export interface CollectOptions {
  /** Only records at or after this time (epoch ms). */
  since?: number | undefined;
  /** Only records before this time (epoch ms). */
  until?: number | undefined;
  /** nginx log_format for access logs (default: combined, or what the nginx config declares). */
  nginxLogFormat?: string | undefined;
  /** Show a progress bar on stderr when it is a TTY. Default true. */
  progress?: boolean | undefined;
}

/** Most records of each list kept in memory; beyond this they are counted only. */
export const KEEP_LIMIT = 200_000;
const GARBAGE_SAMPLES = 3;

/**
 * A copy of a line that does not point into the 1 MB chunk string it was sliced from. V8 keeps a
 * sliced string's parent alive, so a few kept lines per chunk would otherwise pin the whole file
 * in memory (a 1 GB log ran at half speed, spending its time in GC).
 */
export function detach(s: string): string {
  return Buffer.from(s, "utf8").toString("utf8");
}

/** An empty dataset, to which logs are added. */
export function emptyDataset(): Dataset {
  return {
    failures: [],
    statusCounts: {},
    proxyRequests: 0,
    failedTotal: 0,
    proxyErrors: [],
    appEvents: [],
    appRequests: 0,
    files: [],
    probes: { errors: [] },
  };
}

const QUIET_LEVELS = new Set(["trace", "debug", "info"]);

/** True when text[at..at+3] is a status 100–499 followed by `,` or `}` (a JSON number, nothing more). */
function isSuccessStatus(text: string, at: number): boolean {
  const a = text.charCodeAt(at);
  const b = text.charCodeAt(at + 1);
  const c = text.charCodeAt(at + 2);
  const next = text.charCodeAt(at + 3);
  return a >= 49 && a <= 52 && b >= 48 && b <= 57 && c >= 48 && c <= 57 && (next === 44 || next === 125);
}

/** True when an app record is worth keeping for the rules. */
function keepApp(r: AppRecord): boolean {
  if (r.event === "request") {
    const s = r.fields.status;
    return typeof s === "number" && s >= 500;
  }
  if (r.event === "log") return r.level !== undefined && !QUIET_LEVELS.has(r.level);
  return true;
}

/** HAProxy's alerts about its servers and backends (with or without a syslog prefix): evidence, not unreadable lines. */
const HAPROXY_NOTICE =
  /(?:^|\]: |\s)(?:Server \S+ is (?:DOWN|UP|going DOWN)|[Bb]ackend '?\S+?'? has no server available!|Health check for (?:backup )?server \S+ (?:failed|succeeded))/;

/** A per-file line consumer: feed it lines, then call finish() once. */
export interface LineSink {
  onLine: (text: string, start: number, end: number, lineNo: number) => void;
  /** Folds the counts into the dataset; returns the file's stats. */
  finish: (bytes: number, lines: number) => FileStats;
}

/** Builds the consumer that turns one file's lines into dataset entries. Pure apart from mutating `data`. */
export function lineSink(data: Dataset, input: LogInput, opts: CollectOptions = {}): LineSink {
  const stats: FileStats = {
    file: input.file,
    kind: input.kind,
    bytes: 0,
    lines: 0,
    records: 0,
    garbage: 0,
    outOfWindow: 0,
    garbageSamples: [],
  };
  const { since, until } = opts;
  const timed = since !== undefined || until !== undefined;
  const inWindow = (t: number) => Number.isNaN(t) || ((since === undefined || t >= since) && (until === undefined || t < until));
  const garbage = (text: string, line: number) => {
    stats.garbage++;
    if (stats.garbageSamples.length < GARBAGE_SAMPLES)
      stats.garbageSamples.push({
        file: input.file,
        line,
        text: text.slice(0, 300),
      });
  };
  const counts = new Float64Array(600);
  let grouper: AppLineGrouper | undefined;
  let flushWaiting: (() => void) | undefined;
  let onLine: (text: string, start: number, end: number, lineNo: number) => void;

  if (input.kind === "nginx-access" || input.kind === "haproxy" || input.kind === "alb") {
    const access = input.kind === "nginx-access" ? nginxAccessReader(opts.nginxLogFormat ?? COMBINED_FORMAT) : undefined;
    const reader: LogReader<ProxyRecord> = access ?? (input.kind === "haproxy" ? haproxyReader : albReader);
    const fmt = access?.format;
    const full = (line: string, lineNo: number) => {
      const r = reader.parse(line);
      if (!r && input.kind === "haproxy" && HAPROXY_NOTICE.test(line)) {
        stats.notices = (stats.notices ?? 0) + 1;
        const kept = (data.proxyNotices ??= []);
        if (kept.length < 50) kept.push({ record: detach(line), file: input.file, line: lineNo, text: detach(line) });
        return;
      }
      if (!r) return garbage(line, lineNo);
      if (timed && !inWindow(r.time)) {
        stats.outOfWindow++;
        return;
      }
      stats.records++;
      counts[r.status] = (counts[r.status] ?? 0) + 1;
      if (r.status >= 500) {
        data.failedTotal++;
        if (data.failures.length < KEEP_LIMIT) {
          const own = detach(line);
          data.failures.push({ record: reader.parse(own) ?? r, file: input.file, line: lineNo, text: own });
        }
      }
    };
    // With --since/--until the fast path also reads the time field; consecutive lines mostly share a
    // second, so the last parsed time text is remembered and compared in place.
    const range: TimeRange = { start: -1, end: -1 };
    let lastTimeText = "";
    let lastTime = Number.NaN;
    const timeOf = (text: string): number => {
      const len = range.end - range.start;
      if (len !== lastTimeText.length || !text.startsWith(lastTimeText, range.start)) {
        lastTimeText = detach(text.slice(range.start, range.end));
        lastTime = parseFormatTime(fmt?.timeVar, lastTimeText);
      }
      return lastTime;
    };
    const useTime = timed && fmt !== undefined && fmt.timeIndex >= 0;
    onLine = (text, start, end, lineNo) => {
      if (end === start) return;
      // Fast path (nginx): read just the status (and time when filtering); parse only failures and oddities.
      if (fmt && (!timed || useTime)) {
        const st = fmt.status(text, start, end, useTime ? range : undefined);
        if (st > 0 && st < 500 && (!useTime || range.start >= 0)) {
          if (useTime) {
            const t = timeOf(text);
            if (Number.isNaN(t)) return full(text.slice(start, end), lineNo);
            if (!inWindow(t)) {
              stats.outOfWindow++;
              return;
            }
          }
          stats.records++;
          counts[st]++;
          return;
        }
      }
      full(text.slice(start, end), lineNo);
    };
  } else if (input.kind === "nginx-error") {
    onLine = (text, start, end, lineNo) => {
      if (end === start) return;
      // Every parsed error line is kept: detach it from the chunk first (see detach()).
      const line = detach(text.slice(start, end));
      const r: ProxyErrorRecord | null = nginxErrorReader.parse(line);
      if (!r) return garbage(line, lineNo);
      if (timed && !inWindow(r.time)) {
        stats.outOfWindow++;
        return;
      }
      stats.records++;
      if (data.proxyErrors.length < KEEP_LIMIT)
        data.proxyErrors.push({
          record: r,
          file: input.file,
          line: lineNo,
          text: line,
        });
    };
  } else {
    // One event may span lines (a traceback under the line that logged it): group, then parse.
    // An event written without a time (V8's heap-exhaustion dump, a bare stack) happened after
    // the last timed line of the same file: it takes that time, marked as inferred.
    // A library's warning written just *before* the app's own line for the same failure (knex's
    // "Acquire connection error" with tarn's stack) waits here for the next timed event: an app line
    // of the same kind is that failure (the warning is folded into it); otherwise the warning is an
    // event of its own at that line's time, marked as inferred.
    let lastTime = Number.NaN;
    const waiting: { r: AppRecord; text: string; lineNo: number }[] = [];
    const release = (before: number) => {
      while (waiting.length && !((waiting[0] as { r: AppRecord }).r.time >= before)) {
        const w = waiting.shift() as { r: AppRecord; text: string; lineNo: number };
        if (!Number.isFinite(w.r.time) && Number.isFinite(lastTime)) {
          w.r.time = lastTime;
          w.r.fields.timeInferred = true;
        }
        keep(w.r, w.text, w.lineNo);
      }
    };
    const onEvent = (text: string, lineNo: number, lines: number) => {
      stats.continued = (stats.continued ?? 0) + lines - 1;
      const r = appLogReader.parse(text);
      // holdfast's own start-up lines on stderr ("holdfast: serving … with 2 workers", "holdfast: warning: …"):
      // the timeout-budget rules already read the same facts from the config; they are notices, not unreadable.
      if (!r && text.startsWith("holdfast: ")) {
        stats.notices = (stats.notices ?? 0) + 1;
        return;
      }
      if (!r) {
        // An unreadable line may still carry a time that the next untimed event inherits.
        const t = textTime(text.length > 200 ? text.slice(0, 200) : text).time;
        if (Number.isFinite(t)) lastTime = t;
        return garbage(text.length > 300 ? text.slice(0, 300) : text, lineNo);
      }
      if (!Number.isFinite(r.time) && r.fields.precedesItsLine === true) {
        waiting.push({ r, text, lineNo });
        return;
      }
      if (Number.isFinite(r.time)) {
        lastTime = r.time;
        for (const w of waiting)
          if (!Number.isFinite(w.r.time)) {
            w.r.time = r.time;
            w.r.fields.timeInferred = "next line";
          }
        const same = waiting.findIndex((w) => w.r.event === r.event && w.r.origin === r.origin);
        if (same >= 0) {
          waiting.splice(same, 1);
          r.fields.libraryWarnings = 1;
          stats.continued = (stats.continued ?? 0) + 1;
        }
        // Concurrent failures interleave warnings and lines; a warning unclaimed for 5 s is its own event.
        release(r.time - 5000);
      } else if (Number.isFinite(lastTime)) {
        r.time = lastTime;
        r.fields.timeInferred = true;
      }
      keep(r, text, lineNo);
    };
    const keep = (r: AppRecord, text: string, lineNo: number) => {
      if (timed && !inWindow(r.time)) {
        stats.outOfWindow++;
        return;
      }
      stats.records++;
      const origins = (data.appOrigins ??= {});
      origins[r.origin] = (origins[r.origin] ?? 0) + 1;
      if (r.event === "request") data.appRequests++;
      if (keepApp(r) && data.appEvents.length < KEEP_LIMIT) {
        const own = detach(text);
        const kept = appLogReader.parse(own) ?? r;
        if (!Number.isFinite(kept.time)) {
          kept.time = r.time;
          if (r.fields.timeInferred) kept.fields.timeInferred = r.fields.timeInferred;
        }
        if (r.fields.libraryWarnings) kept.fields.libraryWarnings = r.fields.libraryWarnings;
        data.appEvents.push({
          record: kept,
          file: input.file,
          line: lineNo,
          text: own.length > 2000 ? `${own.slice(0, 2000)}…` : own,
        });
      }
    };
    flushWaiting = () => release(Number.POSITIVE_INFINITY);
    grouper = new AppLineGrouper(onEvent);
    const g = grouper;
    onLine = (text, start, end, lineNo) => {
      if (end === start) return;
      const line = text.slice(start, end);
      // Fast path: holdfast's successful `request` events are most of an app log and are only
      // counted, so skip JSON.parse for them (no time filter: their time is not read).
      if (!timed && line.charCodeAt(line.length - 1) === 125 && line.includes('"event":"request"')) {
        const st = line.indexOf('"status":') + 9;
        if (st >= 9 && st + 3 < line.length && isSuccessStatus(line, st)) {
          g.flush();
          stats.records++;
          data.appRequests++;
          const origins = (data.appOrigins ??= {});
          origins.holdfast = (origins.holdfast ?? 0) + 1;
          return;
        }
      }
      g.push(line, lineNo);
    };
  }

  const finish = (bytes: number, lines: number): FileStats => {
    grouper?.flush();
    flushWaiting?.();
    stats.bytes = bytes;
    stats.lines = lines;
    for (let s = 0; s < counts.length; s++) {
      const c = counts[s] as number;
      if (c === 0) continue;
      data.statusCounts[String(s)] = (data.statusCounts[String(s)] ?? 0) + c;
      data.proxyRequests += c;
    }
    // The fast path skipped successes' times; failures are what the rules correlate, and they are parsed.
    data.files.push(stats);
    return stats;
  };
  return { onLine, finish };
}

/** Reads one log file (plain or gzip) into `data`. */
export async function collectLog(data: Dataset, input: LogInput, opts: CollectOptions = {}): Promise<FileStats> {
  const sink = lineSink(data, input, opts);
  let seen = 0;
  const onLine = (text: string, start: number, end: number, lineNo: number) => {
    seen = lineNo;
    sink.onLine(text, start, end, lineNo);
  };
  let result: { bytes: number; lines: number };
  try {
    result = await scanFile(input.file, onLine, {
      onProgress: opts.progress === false ? undefined : progressBar(input.file),
      // Proxy access logs escape non-ASCII bytes, so latin1 decodes them exactly, and faster.
      encoding: input.kind === "app" || input.kind === "nginx-error" ? "utf8" : "latin1",
    });
  } catch (err) {
    // A bad file (corrupt gzip, a directory, vanished) is reported, never fatal; what was read counts.
    data.unreadable = [...(data.unreadable ?? []), { file: input.file, message: (err as Error).message, lines: seen }];
    result = { bytes: 0, lines: seen };
  }
  return sink.finish(result.bytes, result.lines);
}

/** Adds in-memory lines as if read from `file` (tests, piped input). */
export function collectLines(data: Dataset, kind: LogKind, lines: string[], file = `${kind}.log`, opts: CollectOptions = {}): FileStats {
  const sink = lineSink(data, { kind, file }, opts);
  let bytes = 0;
  lines.forEach((l, i) => {
    bytes += Buffer.byteLength(l) + 1;
    sink.onLine(l, 0, l.length, i + 1);
  });
  return sink.finish(bytes, lines.length);
}

/** Sorts what the rules read by time (they rely on it). */
export function sortDataset(data: Dataset): Dataset {
  const byTime = (a: { record: { time: number } }, b: { record: { time: number } }) => (a.record.time || 0) - (b.record.time || 0);
  data.failures.sort(byTime);
  data.proxyErrors.sort(byTime);
  data.appEvents.sort(byTime);
  return data;
}

/** Reads every log; app events and failures are sorted by time afterwards for the rules. */
export async function collectLogs(inputs: LogInput[], opts: CollectOptions = {}, data: Dataset = emptyDataset()): Promise<Dataset> {
  for (const input of inputs) await collectLog(data, input, opts);
  return sortDataset(data);
}
