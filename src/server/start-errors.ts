/**
 * Why holdfast could not start, said for the person at the terminal: which port is taken and how
 * to find or avoid the owner; which import is missing and in which file (the app's, not the path
 * given to `holdfast serve`); where the app's own code threw. The whole stack travels along in
 * `details.stack` for `--verbose`.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { errors, type HoldfastError } from "../errors/index.js";

/** The error for a port another process already listens on. */
export function portInUse(which: "app" | "admin", host: string, port: number, cause?: unknown): HoldfastError {
  const setting = which === "app" ? "--port, HOLDFAST_PORT or `port` in the config" : "--admin-port, HOLDFAST_ADMIN_PORT or `admin.port` in the config";
  return errors.portInUse(
    `the ${which} port ${host}:${port} is already in use by another process, so holdfast did not start.\n` +
      `  next: see who holds it with \`ss -ltnp 'sport = :${port}'\` (often another holdfast, or an earlier one still stopping) and stop it, ` +
      `or choose another port with ${setting} (0 picks a free one).`,
    { cause, details: { which, host, port } },
  );
}

// Holdfast's own files, so a stack frame inside them is not mistaken for the app's.
const OWN_DIR = fileURLToPath(new URL("../", import.meta.url));

/** The first stack location in the app (not in node's internals or holdfast), as path:line:column. */
export function appFrame(stack: string | undefined): string | undefined {
  if (!stack) return undefined;
  // A syntax error in an ES module puts its location on the stack's first line: "file:///app.mjs:3".
  const head = /^(file:\/\/\S+|\/\S+):(\d+)\s*$/m.exec(stack.split("\n")[0] ?? "");
  if (head) return `${toPath(head[1] as string)}:${head[2]}`;
  for (const line of stack.split("\n")) {
    const m = /^\s*at (?:.*?\()?((?:file:\/\/)?\/[^():]+):(\d+):(\d+)\)?\s*$/.exec(line);
    if (!m) continue;
    const path = toPath(m[1] as string);
    if (path.startsWith(OWN_DIR)) continue;
    return `${path}:${m[2]}:${m[3]}`;
  }
  return undefined;
}

function toPath(p: string): string {
  return p.startsWith("file://") ? fileURLToPath(p) : p;
}

/**
 * Node does not say where an ES module's syntax error is when the module is imported; `node --check`
 * does (path:line, the line and a caret). Only on this failure path, and only for JavaScript files.
 */
function syntaxErrorAt(file: string): string | undefined {
  if (!/\.(c|m)?js$/.test(file)) return undefined;
  const r = spawnSync(process.execPath, ["--check", file], { encoding: "utf8", timeout: 10_000 });
  const lines = (r.stderr ?? "").split("\n");
  const at = lines.findIndex((l) => /:\d+$/.test(l));
  if (at < 0) return undefined;
  return [lines[at], ...lines.slice(at + 1, at + 3).map((l) => `    ${l}`)].join("\n").trimEnd();
}

/** A bare import's package: "lodash/fp" → "lodash", "@scope/pkg/x" → "@scope/pkg". */
function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return (specifier.startsWith("@") ? parts.slice(0, 2) : parts.slice(0, 1)).join("/");
}

/** Explains an error thrown while importing the app module `file`. */
export function appImportError(file: string, err: unknown): HoldfastError {
  const e = (err instanceof Error ? err : new Error(String(err))) as Error & { code?: string };
  const stack = e.stack;
  if (!existsSync(file)) {
    return errors.appLoadFailed(
      `Could not load the app module ${file}: there is no such file.\n  next: check the path given to \`holdfast serve\` (relative to the current directory, ${process.cwd()}) or \`app\` in the config.`,
      { cause: err, details: { stack } },
    );
  }
  if (e.code === "ERR_MODULE_NOT_FOUND" || e.code === "MODULE_NOT_FOUND") {
    // ESM: "Cannot find package 'x' imported from /a/app.mjs"; CommonJS: "Cannot find module 'x'\nRequire stack:\n- /a/app.cjs".
    const esm = /Cannot find (?:package|module) '([^']+)' imported from (\S+)/.exec(e.message);
    const cjs = /Cannot find module '([^']+)'\s*\nRequire stack:\n- (\S+)/.exec(e.message);
    const what = esm?.[1] ?? cjs?.[1];
    const from = esm?.[2] ?? cjs?.[2];
    if (what && from) {
      const bare = !/^(\.|\/|file:)/.test(what);
      const importer = toPath(from);
      const next = bare
        ? `install it where the app's package.json is (\`npm install ${packageOf(what)}\`), or remove the import from ${importer}`
        : `fix the import in ${importer}: the file it names does not exist`;
      return errors.appLoadFailed(
        `the app could not start: ${importer} imports "${what}", which ${bare ? "is not installed" : `cannot be found (${toPath(what)})`}. The app module itself (${file}) was found.\n  next: ${next}.`,
        { cause: err, details: { stack, missing: what, importer } },
      );
    }
  }
  const where = appFrame(stack) ?? (e.name === "SyntaxError" ? syntaxErrorAt(file) : undefined);
  return errors.appLoadFailed(
    `the app threw while holdfast imported it: ${e.name}: ${e.message}${where ? `\n  where: ${where}` : ""}\n  next: fix that error in the app (add --verbose for the whole stack).`,
    { cause: err, details: { stack } },
  );
}
