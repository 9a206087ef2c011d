/**
 * The reader contract: a pure function from one log line to a typed record, or null when
 * the line is not one of its kind (garbage). Readers never throw and never do I/O; the scan
 * edge counts the nulls as garbage and quotes a few of them in the report.
 */
import type { LogKind } from "../types.js";

/** A pure line reader. */
export interface LogReader<R> {
  kind: LogKind;
  /** Parses one line (without its newline); null when the line is garbage for this reader. */
  parse(line: string): R | null;
}

/** Wraps a line parser so a throw on a malformed line reads as garbage (null), as the contract requires. */
export function neverThrows<R>(parse: (line: string) => R | null): (line: string) => R | null {
  return (line) => {
    try {
      return parse(line);
    } catch {
      return null;
    }
  };
}

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

/** Parses nginx/HAProxy "24/Nov/2026:14:02:03 +0000" (or with .123 ms, no zone); NaN when malformed. */
export function parseClfTime(s: string): number {
  // 24/Nov/2026:14:02:03[.123][ +0000]
  if (s.length < 20 || s.charCodeAt(2) !== 47 || s.charCodeAt(6) !== 47 || s.charCodeAt(11) !== 58) return Number.NaN;
  const day = num2(s, 0);
  const mon = MONTHS[s.slice(3, 6)];
  const year = num2(s, 7) * 100 + num2(s, 9);
  const hh = num2(s, 12);
  const mm = num2(s, 15);
  const ss = num2(s, 18);
  if (mon === undefined || Number.isNaN(day + year + hh + mm + ss)) return Number.NaN;
  let i = 20;
  let ms = 0;
  if (s.charCodeAt(i) === 46) {
    let j = i + 1;
    let frac = "";
    while (j < s.length && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) frac += s[j++];
    ms = frac ? Math.round(Number(`0.${frac}`) * 1000) : 0;
    i = j;
  }
  let offsetMin = 0;
  const zone = /^ ([+-])(\d\d)(\d\d)/.exec(s.slice(i, i + 6));
  if (zone) offsetMin = (zone[1] === "-" ? -1 : 1) * (Number(zone[2]) * 60 + Number(zone[3]));
  const t = Date.UTC(year, mon, day, hh, mm, ss, ms) - offsetMin * 60_000;
  return Number.isFinite(t) ? t : Number.NaN;
}

function num2(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  if (a < 0 || a > 9 || b < 0 || b > 9) return Number.NaN;
  return a * 10 + b;
}

/** Parses an ISO-8601 time; NaN when malformed. */
export function parseIsoTime(s: string): number {
  if (s.length < 19 || s.charCodeAt(4) !== 45) return Number.NaN;
  const t = Date.parse(s);
  return Number.isFinite(t) ? t : Number.NaN;
}

/** A number of seconds as nginx writes it ("0.012", "-", "0.001, 0.002" → last try); undefined when absent. */
export function parseSeconds(s: string | undefined): number | undefined {
  if (s === undefined || s === "" || s === "-") return undefined;
  const last = s.includes(",") || s.includes(":") ? (s.split(/[,:]\s*/).pop() ?? "") : s;
  const v = Number(last.trim());
  return Number.isFinite(v) ? v : undefined;
}

/**
 * Splits a line into space-separated tokens, keeping "quoted strings" and [bracketed] parts whole
 * (quotes and brackets removed). Used by the HAProxy and ALB readers.
 */
export function tokenize(line: string, brackets = false): string[] {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    const c = line.charCodeAt(i);
    if (c === 32) {
      i++;
      continue;
    }
    if (c === 34) {
      let j = i + 1;
      while (j < n && line.charCodeAt(j) !== 34) j += line.charCodeAt(j) === 92 ? 2 : 1;
      out.push(line.slice(i + 1, Math.min(j, n)));
      i = j + 1;
    } else if (brackets && c === 91) {
      const j = line.indexOf("]", i);
      const e = j < 0 ? n : j;
      out.push(line.slice(i + 1, e));
      i = e + 1;
    } else {
      let j = line.indexOf(" ", i);
      if (j < 0) j = n;
      out.push(line.slice(i, j));
      i = j;
    }
  }
  return out;
}

/** Splits "GET /path HTTP/1.1" into method and path (path without the query string). */
export function splitRequest(req: string | undefined): { method?: string; path?: string } {
  if (!req || req === "-") return {};
  const a = req.indexOf(" ");
  if (a < 0) return {};
  const b = req.indexOf(" ", a + 1);
  const target = req.slice(a + 1, b < 0 ? req.length : b);
  const q = target.indexOf("?");
  return { method: req.slice(0, a), path: q < 0 ? target : target.slice(0, q) };
}
