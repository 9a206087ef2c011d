/**
 * Flag parsing on node:util parseArgs (no dependency), with errors that say which flag
 * was wrong and what the command accepts.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { errors } from "../errors/index.js";

/** Options map accepted by {@link parseFlags}. */
export type FlagSpec = NonNullable<ParseArgsConfig["options"]>;

/** Parses argv strictly; unknown flags become a USAGE error naming the command's help. */
export function parseFlags<T extends FlagSpec>(command: string, argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw errors.usage(`${(err as Error).message.replace(/\. To specify a positional.*$/s, "")}. See \`holdfast ${command} --help\`.`);
  }
}
