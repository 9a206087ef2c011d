/** The shape every `holdfast <command>` module exports; build-command.ts turns it into a commander command. */

/** One flag of a command. Short letters are not given here: short-flags.ts assigns them, the same in every command. */
export interface CliOption {
  /** Long name and value placeholder, e.g. "--port <n>", "--json", "--no-color". */
  flag: string;
  /** Help text; the default goes in it, in words. */
  description: string;
  /** Repeatable: every occurrence is kept, in order. */
  multiple?: boolean;
  /** Accepted but not listed (an alias kept for old scripts). */
  hidden?: boolean;
}

/** Parsed flags: values by long flag name (without "--"), and the positional arguments. */
export interface ParsedFlags {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** A `holdfast` subcommand. */
export interface Command {
  /** What goes after `holdfast <name>` in the usage line, e.g. "<app.js|app.ts> [options]". */
  arguments: string;
  /** What the command does, shown above the options in its help. */
  description: string;
  options: CliOption[];
  /** Said when a short flag of the table that this command lacks is used, e.g. load's "connections are -u, --connections". */
  shortFlagHint?: string;
  /** Shown after the options: notes, exit codes, examples. */
  epilog?: string;
  /** Runs the command; resolves to an exit code from exit-codes.ts. `argv` is the command's own arguments as given. */
  run(flags: ParsedFlags, argv: string[]): Promise<number>;
}
