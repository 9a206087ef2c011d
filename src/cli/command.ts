/** The shape every `holdfast <command>` module exports. */
export interface Command {
  /** One line for `holdfast --help`. */
  summary: string;
  /** Full help text for `holdfast <command> --help`. */
  usage: string;
  /** Runs the command; resolves to the process exit code (0 ok, 1 problems found, 2 bad usage). */
  run(argv: string[]): Promise<number>;
}
