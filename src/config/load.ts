/**
 * Builds the effective config from four layers, later ones winning:
 * schema defaults < config file < HOLDFAST_* environment < command-line flags.
 * Remembers where each value came from, for `holdfast config` and for error messages.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { errors } from "../errors/index.js";
import { importOptional } from "../optional/index.js";
import { closestName, isInternalVariable } from "./env-names.js";
import { listSettings } from "./introspect.js";
import { issueMessage } from "./issue-message.js";
import { MAX_CONFIG_DEPTH, tooDeepAt } from "./nesting.js";
import { printableValue } from "./printable-value.js";
import { type Config, type ConfigInput, configSchema } from "./schema.js";

/** Where an effective value came from. */
export type ValueSource = "default" | { file: string } | { env: string } | { flag: string };

/** Result of {@link loadConfig}. */
export interface LoadedConfig {
  config: Config;
  /** Source of every leaf setting, keyed by dotted path. */
  sources: Map<string, ValueSource>;
  /** The config file read, if any. */
  file: string | undefined;
  /** Things that did not stop loading but look like mistakes (an unknown HOLDFAST_* variable), for the terminal. */
  warnings: string[];
}

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** Directory to look for holdfast.config.{ts,mjs,js,json} in. Default: process.cwd(). */
  cwd?: string;
  /** Explicit config file (from --config); it must exist. */
  configFile?: string;
  /** Environment to read HOLDFAST_* from. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Values from command-line flags, by dotted path, e.g. { port: "8080", "admin.port": "0" }. */
  flags?: Record<string, unknown>;
  /** Name of the flag behind each dotted path, for error messages (e.g. "admin.port" → "--admin-port"). */
  flagNames?: Record<string, string>;
}

const CONFIG_FILES = ["holdfast.config.ts", "holdfast.config.mts", "holdfast.config.mjs", "holdfast.config.js", "holdfast.config.json"];

/** Typed identity for holdfast.config.ts: `export default defineConfig({ ... })`. */
export function defineConfig(config: ConfigInput): ConfigInput {
  return config;
}

/** Largest config file read: a real one is a few KB; this stops a wrong path (a log, a dump) from filling memory. */
const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

async function readConfigFile(file: string): Promise<Record<string, unknown>> {
  const st = statSync(file);
  if (!st.isFile()) {
    throw errors.configInvalid(
      `Config file ${file} is ${st.isDirectory() ? "a directory" : "not a regular file"}. Give the path of holdfast.config.{ts,mjs,js,json} itself.`,
    );
  }
  if (st.size > MAX_CONFIG_FILE_BYTES) {
    throw errors.configInvalid(
      `Config file ${file} is ${st.size} bytes; a holdfast config is a few KB (at most ${MAX_CONFIG_FILE_BYTES}). Check that the path names the config file.`,
    );
  }
  if (file.endsWith(".json")) {
    const text = readFileSync(file, "utf8");
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw errors.configInvalid(`${file} is not valid JSON: ${(err as Error).message}. Fix the syntax and start again.`, {
        cause: err,
      });
    }
  }
  try {
    let mod: { default?: unknown };
    if (/\.m?ts$/.test(file)) {
      const { tsImport } = await importOptional<typeof import("tsx/esm/api")>("tsx/esm/api", `The config file ${file} is TypeScript`);
      mod = (await tsImport(pathToFileURL(file).href, import.meta.url)) as { default?: unknown };
    } else {
      mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
    }
    let value = (mod.default ?? mod) as unknown;
    // A .ts file outside a "type": "module" package is compiled as CommonJS: its default export arrives one level down.
    if (typeof value === "object" && value !== null && "default" in value && Object.keys(value).every((k) => k === "default" || k === "__esModule")) {
      value = (value as { default: unknown }).default;
    }
    const resolved = typeof value === "function" ? await (value as () => unknown)() : value;
    if (typeof resolved !== "object" || resolved === null) {
      throw errors.configInvalid(`${file} must export a config object (export default defineConfig({ ... })).`);
    }
    return resolved as Record<string, unknown>;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "CONFIG_INVALID" || code === "DEPENDENCY_MISSING") throw err;
    throw errors.configInvalid(`Could not load ${file}: ${(err as Error).message}`, { cause: err });
  }
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let cur = target;
  for (const p of parts.slice(0, -1)) {
    if (typeof cur[p] !== "object" || cur[p] === null) cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1] as string] = value;
}

function getPath(source: unknown, path: string): unknown {
  let cur = source;
  for (const p of path.split(".")) {
    if (typeof cur !== "object" || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

function describeSource(s: ValueSource | undefined): string {
  if (s === undefined || s === "default") return "default";
  if ("file" in s) return s.file;
  if ("env" in s) return `env ${s.env}`;
  return `flag ${s.flag}`;
}

/** The source of `path` or of the nearest setting above it (admission.routes.0.priority comes from admission.routes). */
function sourceOf(sources: Map<string, ValueSource>, path: string): ValueSource | undefined {
  for (let p = path; p; p = p.includes(".") ? p.slice(0, p.lastIndexOf(".")) : "") {
    const s = sources.get(p);
    if (s !== undefined) return s;
  }
  return undefined;
}

/** A value as quoted in an error: JSON, cut short so a wrong value cannot flood the terminal. */
function shortJson(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** The keys a config object may hold at `at` ("" for the top level, "db.pool" for the pool), from the schema's settings. */
function keysUnder(settings: readonly { path: string }[], at: string): string[] {
  const prefix = at ? `${at}.` : "";
  const keys = new Set<string>();
  for (const s of settings) if (s.path.startsWith(prefix)) keys.add(s.path.slice(prefix.length).split(".")[0] as string);
  return [...keys];
}

/** "file", "env HOLDFAST_PORT", "flag --port" or "default". */
export function formatSource(s: ValueSource | undefined): string {
  return describeSource(s);
}

/** Loads, merges and validates the config; throws CONFIG_INVALID naming key, value, origin and what is allowed. */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const sources = new Map<string, ValueSource>();
  const settings = listSettings();

  let file: string | undefined;
  if (options.configFile) {
    file = resolve(cwd, options.configFile);
    if (!existsSync(file)) {
      throw errors.configInvalid(`Config file ${file} does not exist. Check the --config path, or drop it to use defaults.`);
    }
  } else {
    file = CONFIG_FILES.map((f) => resolve(cwd, f)).find((f) => existsSync(f));
  }

  const fromFile = file ? await readConfigFile(file) : {};
  // Checked before anything recursive (structuredClone, the schema) walks the value.
  const deep = tooDeepAt(fromFile);
  if (deep !== undefined) {
    throw errors.configInvalid(
      `${file} nests objects or lists more than ${MAX_CONFIG_DEPTH} levels deep (at ${deep.length > 120 ? `${deep.slice(0, 120)}…` : deep}); holdfast settings are at most 3 levels deep (admission.routes[0].path). Check that the file is a holdfast config.`,
    );
  }
  const merged: Record<string, unknown> = structuredClone(fromFile);
  if (file) {
    for (const s of settings) if (getPath(merged, s.path) !== undefined) sources.set(s.path, { file });
  }

  const knownEnv = new Map(settings.map((s) => [s.env, s]));
  const warnings: string[] = [];
  const envProblems: string[] = [];
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith("HOLDFAST_") || raw === undefined) continue;
    const s = knownEnv.get(name);
    if (!s) {
      if (isInternalVariable(name)) continue;
      const near = closestName(name, [...knownEnv.keys()], "HOLDFAST_");
      warnings.push(
        `${name} is not a holdfast setting and was ignored.${near ? ` Did you mean ${near} (${knownEnv.get(near)?.path})?` : ""} Every variable is listed by \`holdfast config --docs\`.`,
      );
      continue;
    }
    if (raw.trim() === "") {
      // HOLDFAST_PORT="" used to become port 0 (a random port): an empty variable is a mistake, not a value.
      const dflt = s.default === undefined ? "its default" : `its default (${typeof s.default === "string" ? s.default : JSON.stringify(s.default)})`;
      envProblems.push(`  - ${s.path}: ${name} is set but empty. Unset it to use ${dflt}, or give it a value (${s.type}).`);
      continue;
    }
    let value: unknown = raw;
    if (s.type === "list") {
      try {
        value = JSON.parse(raw);
      } catch {
        envProblems.push(
          `  - ${s.path}: ${name} must be a JSON array, e.g. [{"path":"/healthz","priority":"critical"}]; got ${JSON.stringify(raw.length > 200 ? `${raw.slice(0, 200)}…` : raw)}.`,
        );
        continue;
      }
      if (tooDeepAt(value) !== undefined) {
        envProblems.push(
          `  - ${s.path}: ${name} nests lists or objects more than ${MAX_CONFIG_DEPTH} levels deep; a route is {"path":"/healthz","priority":"critical"}.`,
        );
        continue;
      }
    }
    setPath(merged, s.path, value);
    sources.set(s.path, { env: name });
  }

  for (const [path, value] of Object.entries(options.flags ?? {})) {
    if (value === undefined) continue;
    setPath(merged, path, value);
    sources.set(path, { flag: options.flagNames?.[path] ?? `--${path}` });
  }

  const result = configSchema.safeParse(merged);
  if (!result.success || envProblems.length) {
    const types = new Map(settings.map((s) => [s.path, s.type]));
    const issues = result.success ? [] : result.error.issues;
    const lines = issues.map((issue) => {
      if (issue.code === "unrecognized_keys") {
        const at = issue.path.join(".");
        const siblings = keysUnder(settings, at);
        const named = issue.keys.map((k) => {
          const near = closestName(k, siblings);
          return `${at ? `${at}.${k}` : k}${near ? ` (did you mean ${at ? `${at}.${near}` : near}?)` : ""}`;
        });
        return `  - unknown key${issue.keys.length > 1 ? "s" : ""} ${named.join(", ")} in ${describeSource(file ? { file } : undefined)}: holdfast has no such setting; every key is listed in docs/configuration.md`;
      }
      const path = issue.path.join(".");
      const value = printableValue(path, getPath(merged, path));
      return `  - ${path || "(root)"} = ${shortJson(value)} (from ${describeSource(sourceOf(sources, path))}): ${issueMessage(issue, types.get(path))}`;
    });
    throw errors.configInvalid(
      `Invalid holdfast configuration:\n${[...envProblems, ...lines].join("\n")}\n${warnings.length ? `Also:\n${warnings.map((w) => `  - ${w}`).join("\n")}\n` : ""}Nothing was started. Fix the values above; every key is listed in docs/configuration.md and by \`holdfast config --docs\`.`,
    );
  }
  for (const s of settings) if (!sources.has(s.path)) sources.set(s.path, "default");
  return { config: result.data, sources, file, warnings };
}
