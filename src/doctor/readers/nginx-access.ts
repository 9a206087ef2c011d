/**
 * nginx access-log reader. The line format is compiled once from a `log_format` string
 * (default: combined), so formats with $upstream_status, $upstream_response_time,
 * $request_time or $request_id are read by name, in whatever order they were written.
 *
 * Hot path: {@link NginxAccessFormat.status} reads only the status out of a line inside a big
 * chunk string, without slicing, so the scan edge fully parses only the lines that failed.
 */
import type { ProxyRecord } from "../types.js";
import { type LogReader, neverThrows, parseClfTime, parseIsoTime, parseSeconds, splitRequest } from "./reader.js";

/** nginx's predefined format. */
export const COMBINED_FORMAT = '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"';

/** A compiled log_format: literals[i] comes before vars[i]; `tail` after the last variable. */
export interface NginxAccessFormat {
  source: string;
  literals: string[];
  vars: string[];
  tail: string;
  /** Index of $status in vars, -1 when the format has none. */
  statusIndex: number;
  /** Index of the time variable ($time_local, $time_iso8601 or $msec), -1 when none. */
  timeIndex: number;
  /** Which time variable the format has. */
  timeVar: "time_local" | "time_iso8601" | "msec" | undefined;
  /**
   * Status of the line str[start, end) or -1 when it does not match the format; reads nothing
   * past the status field (or the time field, when `time` is given: its range is written there).
   */
  status(str: string, start: number, end: number, time?: TimeRange): number;
}

/** Where a line's time field is, filled by {@link NginxAccessFormat.status}. */
export interface TimeRange {
  start: number;
  end: number;
}

/** Parses the text of a time variable to epoch ms; NaN when malformed. */
export function parseFormatTime(kind: NginxAccessFormat["timeVar"], text: string): number {
  if (kind === "time_local") return parseClfTime(text);
  if (kind === "time_iso8601") return parseIsoTime(text);
  if (kind === "msec") {
    const v = Number(text) * 1000;
    return Number.isFinite(v) ? v : Number.NaN;
  }
  return Number.NaN;
}

/** Compiles an nginx log_format string (variables may be written $name or ${name}). */
export function compileFormat(format: string): NginxAccessFormat {
  const literals: string[] = [];
  const vars: string[] = [];
  const re = /\$\{?([a-zA-Z0-9_]+)\}?/g;
  let last = 0;
  for (let m = re.exec(format); m; m = re.exec(format)) {
    literals.push(format.slice(last, m.index));
    vars.push(m[1] ?? "");
    last = m.index + m[0].length;
  }
  const tail = format.slice(last);
  const statusIndex = vars.indexOf("status");
  const timeIndex = vars.findIndex((v) => v === "time_local" || v === "time_iso8601" || v === "msec");
  const timeVar = timeIndex < 0 ? undefined : (vars[timeIndex] as NginxAccessFormat["timeVar"]);
  const fmt: NginxAccessFormat = {
    source: format,
    literals,
    vars,
    tail,
    statusIndex,
    timeIndex,
    timeVar,
    status(str, start, end, time) {
      if (statusIndex < 0) return -1;
      let pos = start;
      let status = -1;
      const last = time && timeIndex > statusIndex ? timeIndex : statusIndex;
      if (time) time.start = -1;
      for (let i = 0; i <= last; i++) {
        const lit = literals[i] as string;
        if (lit.length > 0) {
          if (!str.startsWith(lit, pos)) return -1;
          pos += lit.length;
        }
        const next = i + 1 < literals.length ? (literals[i + 1] as string) : tail;
        let e: number;
        if (next.length === 0) {
          e = str.indexOf(" ", pos);
          if (e < 0 || e > end) e = end;
        } else {
          e = str.indexOf(next, pos);
          if (e < 0 || e > end) {
            if (i + 1 < literals.length) return -1;
            e = end;
          }
        }
        if (i === statusIndex) {
          if (e - pos !== 3) return -1;
          const a = str.charCodeAt(pos) - 48;
          const b = str.charCodeAt(pos + 1) - 48;
          const c = str.charCodeAt(pos + 2) - 48;
          if (a < 1 || a > 5 || b < 0 || b > 9 || c < 0 || c > 9) return -1;
          status = a * 100 + b * 10 + c;
        }
        if (time && i === timeIndex) {
          time.start = pos;
          time.end = e;
        }
        pos = e;
      }
      return status;
    },
  };
  return fmt;
}

/** Splits a line into the format's variables; null when the literals do not match. */
export function extractFields(fmt: NginxAccessFormat, line: string): Record<string, string> | null {
  const out: Record<string, string> = {};
  let pos = 0;
  const n = fmt.vars.length;
  for (let i = 0; i < n; i++) {
    const lit = fmt.literals[i] as string;
    if (lit.length > 0) {
      if (!line.startsWith(lit, pos)) return null;
      pos += lit.length;
    }
    const next = i + 1 < n ? (fmt.literals[i + 1] as string) : fmt.tail;
    let e: number;
    if (next.length === 0) {
      e = i + 1 < n ? line.indexOf(" ", pos) : line.length;
      if (e < 0) e = line.length;
    } else {
      // The last variable ends at the tail's last occurrence; user agents may contain the tail.
      e = i + 1 < n ? line.indexOf(next, pos) : line.lastIndexOf(next);
      if (e < pos) return null;
    }
    out[fmt.vars[i] as string] = line.slice(pos, e);
    pos = e;
  }
  return out;
}

/** Builds a record from extracted fields; null when status or time is unusable. */
export function recordFromFields(f: Record<string, string>): ProxyRecord | null {
  const status = Number(f.status);
  if (!Number.isInteger(status) || status < 100 || status > 599) return null;
  let time = Number.NaN;
  if (f.time_local !== undefined) time = parseClfTime(f.time_local);
  else if (f.time_iso8601 !== undefined) time = parseIsoTime(f.time_iso8601);
  else if (f.msec !== undefined) time = Number(f.msec) * 1000;
  if (Number.isNaN(time) && (f.time_local !== undefined || f.time_iso8601 !== undefined)) return null;
  const { method, path } = splitRequest(f.request);
  const rid = f.request_id ?? f.http_x_request_id ?? f.sent_http_x_request_id;
  return {
    source: "nginx-access",
    time,
    status,
    method: method ?? (f.request_method && f.request_method !== "-" ? f.request_method : undefined),
    // $request_uri keeps the query string; $uri does not.
    path: path ?? f.uri ?? (f.request_uri && f.request_uri !== "-" ? f.request_uri.split("?")[0] : undefined),
    upstreamStatus: f.upstream_status && f.upstream_status !== "-" ? f.upstream_status : undefined,
    upstreamTime: f.upstream_response_time !== undefined ? (parseSeconds(f.upstream_response_time) ?? -1) : undefined,
    requestTime: parseSeconds(f.request_time),
    connectTime: f.upstream_connect_time !== undefined ? (parseSeconds(f.upstream_connect_time) ?? -1) : undefined,
    upstream: f.upstream_addr && f.upstream_addr !== "-" ? f.upstream_addr : undefined,
    requestId: rid && rid !== "-" ? rid : undefined,
  };
}

/** A reader for one log_format (default: combined). */
export function nginxAccessReader(format: string = COMBINED_FORMAT): LogReader<ProxyRecord> & { format: NginxAccessFormat } {
  const fmt = compileFormat(format);
  return {
    kind: "nginx-access",
    format: fmt,
    parse: neverThrows((line) => {
      const f = extractFields(fmt, line);
      return f ? recordFromFields(f) : null;
    }),
  };
}
