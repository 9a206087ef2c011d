/** Readers for parsed flag values (build-command.ts does the parsing, with commander). */
import type { ParsedFlags } from "./command.js";

/** A string flag's value, or undefined. */
export function str(v: ParsedFlags["values"][string]): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** A repeatable string flag's values. */
export function strs(v: ParsedFlags["values"][string]): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === "string");
}
