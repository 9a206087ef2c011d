#!/usr/bin/env node
/**
 * The `holdfast` command. Each subcommand lives in its own module under commands/ and is
 * imported only when used, so `holdfast doctor` does not load the server and vice versa.
 */
import type { Command } from "./command.js";
import { hideSecretArguments } from "./hide-secret-arguments.js";
import { reportCliError } from "./report-error.js";

/** Subcommand registry: name → lazy module. Add one line per command. */
const COMMANDS: Record<string, () => Promise<{ default: Command }>> = {
  serve: () => import("./commands/serve.js"),
  config: () => import("./commands/config.js"),
  db: () => import("./commands/db.js"),
  "proxy-config": () => import("./commands/proxy-config.js"),
  load: () => import("./commands/load.js"),
  doctor: () => import("./commands/doctor.js"),
  monitor: () => import("./commands/monitor.js"),
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    const lines = await Promise.all(
      Object.entries(COMMANDS).map(async ([n, load]) => `  ${n.padEnd(14)}${(await load()).default.summary}`),
    );
    process.stdout.write(
      `holdfast — keeps a web service answering under load, and says why when it does not.\n\nUsage: holdfast <command> [options]\n\nCommands:\n${lines.join("\n")}\n\nRun \`holdfast <command> --help\` for a command's options.\n`,
    );
    return name ? 0 : 2;
  }
  if (name === "--version" || name === "-v") {
    const { readFileSync } = await import("node:fs");
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`holdfast: unknown command "${name}". Commands: ${Object.keys(COMMANDS).join(", ")}. Try \`holdfast --help\`.\n`);
    return 2;
  }
  const cmd = (await load()).default;
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(`${cmd.usage.trimEnd()}\n`);
    return 0;
  }
  return cmd.run(rest);
}

// `holdfast ... | head` closes the pipe early; that is not an error worth a stack trace.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});

hideSecretArguments(process.argv.slice(2));
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.exitCode = reportCliError(err);
  },
);
