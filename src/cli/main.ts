#!/usr/bin/env node
/**
 * The `holdfast` command, on commander: generated help per command, `holdfast help <cmd>`,
 * --version/-V, "did you mean" for commands and flags. Each subcommand lives in its own module
 * under commands/ and only the one invoked is imported, so `holdfast doctor` does not load the server.
 */
import { readFileSync } from "node:fs";
import { Command as Commander, CommanderError } from "commander";
import { defineCommand } from "./build-command.js";
import type { Command, ParsedFlags } from "./command.js";
import { EXIT } from "./exit-codes.js";
import { hideSecretArguments } from "./hide-secret-arguments.js";
import { reportCliError } from "./report-error.js";

/** Subcommand registry: name → one-line summary and lazy module. Add one line per command. */
const COMMANDS: Record<string, { summary: string; load: () => Promise<{ default: Command }> }> = {
  serve: { summary: "Run an app under the pre-fork supervisor (watchdog, reload, graceful stop, admin endpoint).", load: () => import("./commands/serve.js") },
  config: { summary: "Print the effective config, where each value came from, and timeout-budget warnings.", load: () => import("./commands/config.js") },
  db: { summary: "Database status, check, checkpoint, optimize and online backup (SQLite and PostgreSQL).", load: () => import("./commands/db.js") },
  "proxy-config": {
    summary: "Write an nginx, HAProxy or Kubernetes config whose timeouts agree with holdfast's.",
    load: () => import("./commands/proxy-config.js"),
  },
  load: { summary: "Load-test a URL (open or closed loop) and judge it against client- and server-side SLOs.", load: () => import("./commands/load.js") },
  doctor: { summary: "Find which cause produced the 502/504s, with evidence and the exact fix.", load: () => import("./commands/doctor.js") },
  monitor: { summary: "Live dashboard and alerts (5xx, p99, pool, locks, workers) for running instances.", load: () => import("./commands/monitor.js") },
};

function version(): string {
  return (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
}

/** True when --verbose is among the arguments (read before parsing, so a failure while parsing still honours it). */
export function wantsVerbose(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  return (end < 0 ? argv : argv.slice(0, end)).includes("--verbose");
}

async function main(argv: string[]): Promise<number> {
  // -v printed the version before commander; old scripts keep working.
  if (argv.length === 1 && argv[0] === "-v") argv = ["--version"];
  const program = new Commander("holdfast")
    .description("holdfast keeps a web service answering under load, and says why when it does not.")
    .usage("<command> [options]")
    .version(version(), "-V, --version", "print holdfast's version")
    .option("--verbose", "on an error, also print its stack and causes")
    .helpCommand("help [command]", "print a command's help")
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`holdfast: ${text.replace(/^error: /, "")}`) })
    .showSuggestionAfterError(true)
    .showHelpAfterError("Run `holdfast --help` for the commands.");
  program.addHelpText("after", "\nRun `holdfast help <command>` (or `holdfast <command> --help`) for a command's options. Exit codes: docs/cli.md.");

  // Only the command named on the line is imported; the others are listed for help and suggestions.
  const operands = argv.filter((a) => !a.startsWith("-"));
  const target = operands[0] === "help" ? operands[1] : operands[0];
  // `holdfast help serv`: the same "unknown command … Did you mean serve?" as `holdfast serv`.
  if (operands[0] === "help" && target !== undefined && !(target in COMMANDS)) argv = [target];
  let invoked: { name: string; spec: Command; flags: ParsedFlags } | undefined;
  for (const [name, entry] of Object.entries(COMMANDS)) {
    const sub = program.command(name).summary(entry.summary);
    if (name !== target) continue;
    const spec = (await entry.load()).default;
    defineCommand(sub, name, spec, (flags) => {
      invoked = { name, spec, flags };
    });
  }
  if (argv.length === 0) {
    process.stdout.write(program.helpInformation());
    return EXIT.USAGE;
  }
  try {
    program.parse(argv, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    throw err;
  }
  if (!invoked) return EXIT.OK;
  const own = argv.slice(argv.indexOf(invoked.name) + 1).filter((a) => a !== "--verbose");
  return invoked.spec.run(invoked.flags, own);
}

// `holdfast ... | head` closes the pipe early; that is not an error worth a stack trace.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});

const args = process.argv.slice(2);
hideSecretArguments(args);
main(args).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.exitCode = reportCliError(err, { verbose: wantsVerbose(args) });
  },
);
