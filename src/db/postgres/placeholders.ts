/**
 * Rewrites the portable `?` placeholders of the `sql` tag to PostgreSQL's `$1..$n`, skipping
 * `?` inside string literals ('…', E'…'), quoted identifiers ("…"), dollar-quoted bodies
 * ($tag$…$tag$) and comments (-- and nested /* *\/), where it is text, not a parameter.
 */
import { errors } from "../../errors/index.js";

/** Rewritten texts by original text: the `sql` tag yields the same few texts over and over. */
const cache = new Map<string, { text: string; count: number }>();
const CACHE_MAX = 1000;

/** Returns `text` with `?` placeholders numbered, and how many there were. */
export function numberPlaceholders(text: string): { text: string; count: number } {
  const hit = cache.get(text);
  if (hit) return hit;
  const out = scan(text);
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
  cache.set(text, out);
  return out;
}

/**
 * The text to send for `values`: unchanged when there are no values (so the jsonb `?`
 * operator works in plain strings) or no `?` placeholders (already `$n`); numbered otherwise.
 */
export function toPostgresText(text: string, valueCount: number): string {
  if (valueCount === 0 || !text.includes("?")) return text;
  const r = numberPlaceholders(text);
  if (r.count === 0) return text;
  if (r.count !== valueCount) {
    throw errors.dbQueryFailed(
      `The statement has ${r.count} "?" placeholder${r.count === 1 ? "" : "s"} but ${valueCount} value${valueCount === 1 ? " was" : "s were"} given: ${preview(text)}`,
    );
  }
  return r.text;
}

function scan(s: string): { text: string; count: number } {
  let out = "";
  let count = 0;
  let i = 0;
  let from = 0;
  const n = s.length;
  while (i < n) {
    const c = s[i];
    if (c === "?") {
      out += `${s.slice(from, i)}$${++count}`;
      i++;
      from = i;
    } else if (c === "'" || c === '"') {
      i = skipQuoted(s, i, c);
    } else if (c === "-" && s[i + 1] === "-") {
      const end = s.indexOf("\n", i);
      i = end === -1 ? n : end + 1;
    } else if (c === "/" && s[i + 1] === "*") {
      i = skipBlockComment(s, i);
    } else if (c === "$") {
      i = skipDollarQuoted(s, i);
    } else {
      i++;
    }
  }
  return { text: count === 0 ? s : out + s.slice(from), count };
}

/** Index after a '…' or "…" run; a doubled quote is an escaped quote. E'…' backslash escapes are honoured. */
function skipQuoted(s: string, start: number, q: string): number {
  const backslashes = q === "'" && start > 0 && (s[start - 1] === "E" || s[start - 1] === "e");
  let i = start + 1;
  while (i < s.length) {
    if (backslashes && s[i] === "\\") i += 2;
    else if (s[i] === q) {
      if (s[i + 1] === q) i += 2;
      else return i + 1;
    } else i++;
  }
  return i;
}

/** Index after a (nestable) block comment. */
function skipBlockComment(s: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < s.length) {
    if (s[i] === "/" && s[i + 1] === "*") {
      depth++;
      i += 2;
    } else if (s[i] === "*" && s[i + 1] === "/") {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else i++;
  }
  return i;
}

/** Index after a $tag$…$tag$ body, or after the `$` when it does not open one ($1, identifiers). */
function skipDollarQuoted(s: string, start: number): number {
  const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(s.slice(start, start + 64));
  // A `$` right after an identifier character belongs to the identifier (e.g. a$b), not a quote.
  if (!m || (start > 0 && /[A-Za-z0-9_]/.test(s[start - 1]))) return start + 1;
  const tag = m[0];
  const end = s.indexOf(tag, start + tag.length);
  return end === -1 ? s.length : end + tag.length;
}

function preview(text: string): string {
  const one = text.replace(/\s+/g, " ").trim();
  return one.length > 120 ? `${one.slice(0, 117)}…` : one;
}
