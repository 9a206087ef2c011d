/**
 * The one set of short flags. A letter means the same long flag in every command that has it
 * (`-c` is --config everywhere), so a habit formed on `holdfast serve` holds on `holdfast doctor`.
 * Commands declare long flags only; build-command.ts adds the short form from this table.
 */

/** Short letter → the long flag it stands for, in every command. */
export const SHORT_FLAGS = {
  c: "config",
  p: "port",
  w: "workers",
  o: "out",
  r: "rate",
  d: "duration",
  u: "connections",
  X: "method",
  H: "header",
} as const;

const BY_LONG = new Map<string, string>(Object.entries(SHORT_FLAGS).map(([s, l]) => [l, s]));

/** The short letter for a long flag name ("config" → "c"), if it has one. */
export function shortFor(long: string): string | undefined {
  return BY_LONG.get(long);
}
