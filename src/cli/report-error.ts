/** Turns an error that escaped a command into a message and an exit code, never a raw stack for known errors. */
import { isHoldfastError } from "../errors/index.js";

/** Prints the error for a person and returns the exit code (2 for usage/config, 1 otherwise). */
export function reportCliError(err: unknown): number {
  if (isHoldfastError(err)) {
    process.stderr.write(`holdfast: ${err.message}\n`);
    return err.code === "USAGE" || err.code === "CONFIG_INVALID" ? 2 : 1;
  }
  const e = err as Error;
  process.stderr.write(`holdfast: unexpected error: ${e?.stack ?? String(err)}\nThis is a bug in holdfast; please report it with the lines above.\n`);
  return 1;
}
