// The CLI fits the habits people bring from other tools: help per command, -V, suggestions for
// typos in commands, flags and config keys, one meaning per short flag, plain-word validation
// errors, and exit codes documented where the code keeps them. Runs the built CLI.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { EXIT, EXIT_CODE_DOCS } from "../src/cli/exit-codes.js";
import { SHORT_FLAGS } from "../src/cli/short-flags.js";
import { CLI } from "./support/holdfast-process.js";
import { tempDir } from "./support/temp-dir.js";

const COMMANDS = ["serve", "config", "db", "proxy-config", "load", "doctor", "monitor"];

function holdfast(args: string[], o: { cwd?: string; env?: Record<string, string> } = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: o.cwd ?? tempDir("hf-cli-"),
    env: { ...process.env, ...o.env },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test("holdfast help <cmd> prints that command's help (not the global one), like <cmd> --help", () => {
  const viaHelp = holdfast(["help", "serve"]);
  assert.equal(viaHelp.code, 0);
  assert.match(viaHelp.out, /Usage: holdfast serve <app\.js\|app\.ts>/);
  assert.match(viaHelp.out, /-w, --workers <n\|auto>/);
  assert.doesNotMatch(viaHelp.out, /Commands:/);
  assert.equal(holdfast(["serve", "--help"]).out, viaHelp.out);
  for (const name of COMMANDS) {
    const r = holdfast(["help", name]);
    assert.equal(r.code, 0, `${name}: ${r.err}`);
    assert.match(r.out, new RegExp(`Usage: holdfast ${name} `), name);
  }
});

test("-V and --version print the version and exit 0", () => {
  const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  for (const flag of ["-V", "--version"]) {
    const r = holdfast([flag]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.trim(), version);
  }
});

test("a mistyped command or flag gets a suggestion and exit 2", () => {
  const cmd = holdfast(["serv", "app.js"]);
  assert.equal(cmd.code, EXIT.USAGE);
  assert.match(cmd.err, /unknown command 'serv'/);
  assert.match(cmd.err, /Did you mean serve\?/);
  const viaHelp = holdfast(["help", "serv"]);
  assert.equal(viaHelp.code, EXIT.USAGE);
  assert.match(viaHelp.err, /Did you mean serve\?/);
  const flag = holdfast(["serve", "app.js", "--wokers", "3"]);
  assert.equal(flag.code, EXIT.USAGE);
  assert.match(flag.err, /unknown option '--wokers'/);
  assert.match(flag.err, /Did you mean --workers\?/);
  const load = holdfast(["load", "http://127.0.0.1:9/", "--durtion", "5s"]);
  assert.equal(load.code, EXIT.USAGE);
  assert.match(load.err, /Did you mean --duration\?/);
});

test("a mistyped config key in a file or in HOLDFAST_* gets the closest setting", () => {
  const dir = tempDir("hf-cli-");
  writeFileSync(join(dir, "holdfast.config.json"), JSON.stringify({ workres: 2, db: { pool: { mx: 3 } } }));
  const file = holdfast(["config"], { cwd: dir });
  assert.equal(file.code, EXIT.USAGE);
  assert.match(file.err, /unknown key workres \(did you mean workers\?\)/);
  assert.match(file.err, /unknown key db\.pool\.mx \(did you mean db\.pool\.max\?\)/);
  const env = holdfast(["config", "--json"], { env: { HOLDFAST_WORKRES: "2" } });
  assert.equal(env.code, 0, env.err);
  assert.match(env.err, /HOLDFAST_WORKRES is not a holdfast setting.*Did you mean HOLDFAST_WORKERS \(workers\)\?/);
});

test("-c means --config in every command that reads a config, doctor included; load's connections are -u", () => {
  for (const name of COMMANDS) {
    const help = holdfast(["help", name]).out;
    for (const m of help.matchAll(/^\s+-(\w), --([\w-]+)/gm)) {
      const [, letter, long] = m as unknown as [string, string, string];
      if (letter === "h") continue;
      assert.equal(
        (SHORT_FLAGS as Record<string, string>)[letter],
        long,
        `${name}: -${letter} is --${long}, the table says --${(SHORT_FLAGS as Record<string, string>)[letter]}`,
      );
    }
  }
  const doctor = holdfast(["doctor", "-c", "no-such.json", "--skip-system"]);
  assert.equal(doctor.code, EXIT.USAGE);
  assert.match(doctor.err, /--config no-such\.json: no such file/);
  const load = holdfast(["load", "http://127.0.0.1:9/", "-c", "10"]);
  assert.equal(load.code, EXIT.USAGE);
  assert.match(load.err, /-c is --config in every holdfast command.*connections are -u, --connections/);
  assert.match(holdfast(["load", "--help"]).out, /-u, --connections <n>/);
});

test("invalid values are refused in plain words naming the key, the value and what is allowed", () => {
  const cases: [string[], RegExp][] = [
    [["--workers=-XYZ"], /workers = "-XYZ" \(from flag --workers\): expected "auto" or a whole number/],
    // node's parseArgs refused this one with "...argument is ambiguous... use '--workers=-XYZ'".
    [["--workers", "-XYZ"], /workers = "-XYZ" \(from flag --workers\): expected "auto" or a whole number/],
    [["--workers", "abc"], /workers = "abc" \(from flag --workers\)/],
    [["--port", "70000"], /port = "70000" \(from flag --port\): expected a port number from 0 to 65535/],
    [["--port", "abc"], /port = "abc" \(from flag --port\): expected a port number/],
    [["--log-level", "loud"], /log\.level = "loud" \(from flag --log-level\): must be one of/],
  ];
  for (const [args, re] of cases) {
    const r = holdfast(["config", ...args]);
    assert.equal(r.code, EXIT.USAGE, `${args.join(" ")}: ${r.err}`);
    assert.match(r.err, re);
    assert.doesNotMatch(r.err, /Invalid input|received NaN|expected number, received|Too (small|big)|ambiguous|'--workers=/, args.join(" "));
  }
});

test("docs/cli.md lists every exit code and every short flag as the code defines them", () => {
  const doc = readFileSync(new URL("../docs/cli.md", import.meta.url), "utf8");
  for (const [code, meaning] of Object.entries(EXIT_CODE_DOCS)) assert.ok(doc.includes(`| \`${code}\` | ${meaning} |`), `exit code ${code} out of step`);
  for (const [letter, long] of Object.entries(SHORT_FLAGS)) assert.ok(doc.includes(`| \`-${letter}\` | \`--${long}\` |`), `-${letter} out of step`);
});
