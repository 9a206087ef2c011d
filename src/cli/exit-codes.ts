/**
 * The exit codes of every `holdfast` command, in one table so scripts, systemd units and CI can
 * rely on them; docs/cli.md lists the same table and a test keeps the two in step.
 */

/** Exit code → what it means, for every command. */
export const EXIT = {
  /** Done; nothing wrong (serve: stopped cleanly after SIGTERM/SIGINT). */
  OK: 0,
  /** The command ran and found problems (doctor findings, a failed SLO, a firing alert, db check) or failed (serve could not start). */
  PROBLEMS: 1,
  /** Bad usage or an invalid config: unknown command or flag, a bad value; nothing was started. */
  USAGE: 2,
} as const;

/** One of the documented exit codes. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** One line per code, as docs/cli.md shows them. */
export const EXIT_CODE_DOCS: Record<ExitCode, string> = {
  0: "done; nothing wrong (`serve`: stopped cleanly after SIGTERM/SIGINT)",
  1: "the command ran and found problems (doctor findings, a failed SLO, a firing alert, `db check` problems) or failed (`serve` could not start)",
  2: "bad usage or an invalid config (unknown command or flag, a bad value); nothing was started",
};
