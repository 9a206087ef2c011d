/** Turns an error that escaped a command into a message and an exit code; a stack only with --verbose, or for a holdfast bug. */
import { isHoldfastError } from "../errors/index.js";
import { EXIT } from "./exit-codes.js";

/** Stack, then each cause's stack, for --verbose. */
function chain(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const stack = (e as { details?: { stack?: unknown } }).details?.stack;
    parts.push(`${depth === 0 ? "" : "caused by: "}${typeof stack === "string" ? stack : e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    if (!(e instanceof Error)) break;
  }
  return parts.join("\n");
}

/** Prints the error for a person and returns the exit code (USAGE for usage/config, PROBLEMS otherwise). */
export function reportCliError(err: unknown, o: { verbose?: boolean } = {}): number {
  if (isHoldfastError(err)) {
    process.stderr.write(`holdfast: ${err.message}\n`);
    if (o.verbose) process.stderr.write(`${chain(err)}\n`);
    return err.code === "USAGE" || err.code === "CONFIG_INVALID" ? EXIT.USAGE : EXIT.PROBLEMS;
  }
  const e = err as Error;
  process.stderr.write(`holdfast: unexpected error: ${e?.stack ?? String(err)}\nThis is a bug in holdfast; please report it with the lines above.\n`);
  return EXIT.PROBLEMS;
}
