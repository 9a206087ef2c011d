/**
 * The `sql` tagged template: portable parameters for SQLite and PostgreSQL.
 *
 * sql`SELECT * FROM users WHERE id = ${id}` becomes `{ text: "SELECT * FROM users WHERE id = ?", values: [id] }`.
 * Values are never spliced into the text, so a tired engineer cannot SQL-inject by accident;
 * a nested statement (sql`... ${sql`AND x = ${y}`}`) is inlined with its own values, and
 * `sql.raw(text)` splices trusted text (identifiers chosen by code, never by users).
 */
import { errors } from "../errors/index.js";
import type { SqlStatement, SqlValue } from "./types.js";

const RAW = Symbol("holdfast.sql.raw");

/** Trusted SQL text spliced verbatim by {@link sql}; build it only from constants. */
export interface RawSql {
  readonly [RAW]: string;
}

class Statement implements SqlStatement {
  readonly text: string;
  readonly values: readonly SqlValue[];
  constructor(text: string, values: readonly SqlValue[]) {
    this.text = text;
    this.values = values;
  }
}

function isStatement(v: unknown): v is SqlStatement {
  return v instanceof Statement || (typeof v === "object" && v !== null && "text" in v && "values" in v && Array.isArray((v as SqlStatement).values));
}

function isRaw(v: unknown): v is RawSql {
  return typeof v === "object" && v !== null && RAW in v;
}

function isSqlValue(v: unknown): v is SqlValue {
  return (
    v === null ||
    typeof v === "string" ||
    typeof v === "number" ||
    typeof v === "bigint" ||
    typeof v === "boolean" ||
    v instanceof Uint8Array ||
    v instanceof Date
  );
}

/** Builds a {@link SqlStatement} from a template; each `${value}` becomes a `?` placeholder. */
export function sql(strings: TemplateStringsArray, ...args: readonly unknown[]): SqlStatement {
  let text = strings[0] ?? "";
  const values: SqlValue[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (isRaw(a)) text += a[RAW];
    else if (isStatement(a)) {
      text += a.text;
      values.push(...a.values);
    } else if (a === undefined) {
      throw errors.dbQueryFailed(
        `sql template parameter ${i + 1} is undefined (after "${(strings[i] ?? "").trim().slice(-40)}"). Pass null for SQL NULL; undefined is almost always a missing field.`,
      );
    } else if (isSqlValue(a)) {
      text += "?";
      values.push(a);
    } else {
      throw errors.dbQueryFailed(
        `sql template parameter ${i + 1} is a ${Array.isArray(a) ? "array" : typeof a}, which cannot be bound. Use sql.join(values) for IN lists, or JSON.stringify(value) for JSON.`,
      );
    }
    text += strings[i + 1] ?? "";
  }
  return new Statement(text, values);
}

/** Splices trusted text (an identifier or keyword chosen by code) into a {@link sql} template. */
sql.raw = (text: string): RawSql => ({ [RAW]: text });

/** Joins values (or statements) with a separator: sql`WHERE id IN (${sql.join(ids)})`. */
sql.join = (items: readonly (SqlValue | SqlStatement)[], separator = ", "): SqlStatement => {
  const strings: string[] = [""];
  for (let i = 1; i < items.length; i++) strings.push(separator);
  strings.push("");
  const tsa = Object.assign(strings, { raw: strings }) as unknown as TemplateStringsArray;
  return items.length === 0 ? new Statement("NULL", []) : sql(tsa, ...items);
};

/** Normalises the `(statement | text, params)` pair every Queryable method accepts. */
export function toStatement(statement: SqlStatement | string, params?: readonly SqlValue[]): SqlStatement {
  if (typeof statement === "string") return new Statement(statement, params ?? []);
  if (params && params.length > 0) {
    throw errors.dbQueryFailed("Pass parameters either through the sql`` template or as the params array, not both.");
  }
  return statement;
}

/** Rewrites `?` placeholders to PostgreSQL's `$1, $2, …`, skipping quoted strings, identifiers and comments. */
export function toNumberedPlaceholders(text: string): string {
  let out = "";
  let n = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      const stop = end === -1 ? text.length : end + 1;
      out += text.slice(i, stop);
      i = stop;
    } else if (c === "-" && text[i + 1] === "-") {
      const end = text.indexOf("\n", i);
      const stop = end === -1 ? text.length : end;
      out += text.slice(i, stop);
      i = stop;
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      const stop = end === -1 ? text.length : end + 2;
      out += text.slice(i, stop);
      i = stop;
    } else if (c === "?") {
      out += `$${++n}`;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}
