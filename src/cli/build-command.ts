/**
 * Turns a holdfast Command (long flags, help text, run) into a commander command: generated
 * help, short flags from the one table, "did you mean" for a mistyped flag, and the parsed
 * flags handed back keyed by their long names, the way the commands read them.
 */
import { type Command as Commander, Command as CommanderCommand, CommanderError, Option } from "commander";
import { errors } from "../errors/index.js";
import type { Command, ParsedFlags } from "./command.js";
import { SHORT_FLAGS, shortFor } from "./short-flags.js";

/** The long name of an option declaration: "--admin-port <n>" → "admin-port". */
export function longName(flag: string): string {
  const m = /^--([A-Za-z0-9][\w-]*)/.exec(flag.trim());
  if (!m) throw new Error(`option declaration "${flag}" must start with a --long-name`);
  return m[1] as string;
}

/** Joins lines of a paragraph so commander can wrap it to the terminal; indented lines (lists, examples) stay as written. */
function unwrap(text: string): string {
  return text.replace(/([^\n])\n(?=[^\s])/g, "$1 ");
}

/** Adds `spec`'s arguments, flags and help to `sub`; `onParsed` receives the flags when the command is invoked. */
export function defineCommand(sub: Commander, name: string, spec: Command, onParsed: (flags: ParsedFlags) => void): void {
  sub.usage(spec.arguments).description(unwrap(spec.description)).allowExcessArguments(true);
  sub.showHelpAfterError(`Run \`holdfast ${name} --help\` for every option.`);
  const options = spec.options.map((o) => {
    const long = longName(o.flag);
    const short = shortFor(long);
    const opt = new Option(short ? `-${short}, ${o.flag}` : o.flag, o.description);
    if (o.multiple) opt.argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
    if (o.hidden) opt.hideHelp();
    sub.addOption(opt);
    return { long, opt };
  });
  if (spec.epilog) sub.addHelpText("after", `\n${spec.epilog.trimEnd()}`);
  // A short flag from the table that this command lacks (`holdfast load -c 100`, as autocannon has it) says what it means here.
  const inherited = sub.configureOutput();
  sub.configureOutput({
    outputError: (text, write) => {
      const letter = /unknown option '-(\w)'/.exec(text)?.[1];
      const long = letter ? (SHORT_FLAGS as Record<string, string>)[letter] : undefined;
      const hint =
        letter && long
          ? `(-${letter} is --${long} in every holdfast command, and ${name} has no --${long}${spec.shortFlagHint ? `; ${spec.shortFlagHint}` : ""})\n`
          : "";
      (inherited.outputError ?? ((t: string, w: (s: string) => void) => w(t)))(`${text}${hint}`, write);
    },
  });
  sub.action((_opts: unknown, cmd: Commander) => {
    const raw = cmd.opts<Record<string, unknown>>();
    const values: ParsedFlags["values"] = {};
    for (const { long, opt } of options) {
      const v = raw[opt.attributeName()];
      // "--no-color" is stored by commander as color=false; the commands read "no-color": true.
      if (opt.negate) values[long] = v === false ? true : undefined;
      else values[long] = v as ParsedFlags["values"][string];
    }
    onParsed({ values, positionals: [...cmd.args] });
  });
}

/**
 * Parses `argv` for `spec` and runs it in this process, the way `holdfast <name>` would; a bad flag
 * becomes the USAGE error main.ts turns into exit 2. For tests that check many usage errors without
 * a process each.
 */
export async function runInProcess(name: string, spec: Command, argv: string[]): Promise<number> {
  const cmd = new CommanderCommand(name).exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {}, outputError: () => {} });
  let parsed: ParsedFlags | undefined;
  defineCommand(cmd, name, spec, (flags) => {
    parsed = flags;
  });
  try {
    cmd.parse(argv, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) throw errors.usage(`${err.message.replace(/^error: /, "")}. See \`holdfast ${name} --help\`.`);
    throw err;
  }
  if (!parsed) throw errors.usage(`holdfast ${name}: nothing to run`);
  return spec.run(parsed, argv);
}
