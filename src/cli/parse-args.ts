/**
 * Flag parsing on node:util parseArgs (no dependency), with errors that say which flag
 * was wrong and what the command accepts.
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { errors } from "../errors/index.js";

/** Options map accepted by {@link parseFlags}. */
export type FlagSpec = NonNullable<ParseArgsConfig["options"]>;

/** Parsed flags: values by flag name, and the positional arguments. */
export interface ParsedFlags {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

/** Parses argv strictly; unknown flags become a USAGE error naming the command's help. */
export function parseFlags(command: string, argv: string[], options: FlagSpec): ParsedFlags {
  try {
    const r = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: r.values as ParsedFlags["values"], positionals: r.positionals };
  } catch (err) {
    throw errors.usage(`${(err as Error).message.replace(/\. To specify a positional.*$/s, "")}. See \`holdfast ${command} --help\`.`);
  }
}

/** A string flag's value, or undefined. */
export function str(v: ParsedFlags["values"][string]): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** A repeatable string flag's values. */
export function strs(v: ParsedFlags["values"][string]): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === "string");
}
