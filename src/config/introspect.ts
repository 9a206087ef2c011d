/**
 * Walks the zod schema to list every leaf setting with its doc and default, so env
 * names, `holdfast config` and docs/configuration.md all come from the one schema.
 */
import { globalRegistry, type z } from "zod";
import { configSchema } from "./schema.js";

/** One leaf setting of the schema. */
export interface SettingInfo {
  /** Dotted path, e.g. "timeouts.keepAlive". */
  path: string;
  /** The environment variable that sets it, e.g. HOLDFAST_TIMEOUTS_KEEP_ALIVE. */
  env: string;
  /** One-line doc from the schema. */
  doc: string;
  /** Default as written in config (e.g. "65s"), or undefined when there is none. */
  default: unknown;
  /** Human type: duration, size, number, boolean, string, one of …, list. */
  type: string;
}

type AnySchema = z.ZodType & { def: Record<string, unknown> & { type: string }; description?: string };

function unwrap(s: AnySchema): { inner: AnySchema; def: unknown } {
  let cur = s;
  let dflt: unknown;
  for (;;) {
    const t = cur.def.type;
    if (t === "default" || t === "prefault") {
      if (dflt === undefined) dflt = cur.def.defaultValue;
      cur = cur.def.innerType as AnySchema;
    } else if (t === "optional" || t === "nullable") {
      cur = cur.def.innerType as AnySchema;
    } else {
      return { inner: cur, def: dflt };
    }
  }
}

function describeType(s: AnySchema): string {
  const t = s.def.type;
  if (t === "pipe") {
    // duration() and size() in schema.ts tag themselves; the other pipes are told by their input.
    const unit = (globalRegistry.get(s) as { unit?: string } | undefined)?.unit;
    if (unit) return unit;
    const input = s.def.in as AnySchema;
    if (input.def.type === "union") {
      const opts = input.def.options as AnySchema[];
      if (opts.some((o) => o.def.type === "boolean")) return "boolean";
      if (opts.some((o) => o.def.type === "literal")) return '"auto" or number';
    }
    return describeType(s.def.out as AnySchema);
  }
  if (t === "enum")
    return `one of ${Object.keys(s.def.entries as object)
      .map((k) => JSON.stringify(k))
      .join(", ")}`;
  if (t === "array") return "list";
  return t;
}

function toEnv(path: string): string {
  return `HOLDFAST_${path
    .split(".")
    .map((seg) => seg.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase())
    .join("_")}`;
}

function walk(schema: AnySchema, prefix: string, out: SettingInfo[]): void {
  const { inner, def } = unwrap(schema);
  if (inner.def.type === "object") {
    const shape = (inner as unknown as { shape: Record<string, AnySchema> }).shape;
    for (const [key, child] of Object.entries(shape)) walk(child, prefix ? `${prefix}.${key}` : key, out);
    return;
  }
  out.push({
    path: prefix,
    env: toEnv(prefix),
    doc: schema.description ?? inner.description ?? "",
    default: def,
    type: describeType(inner),
  });
}

let cached: SettingInfo[] | undefined;

/** Every leaf setting, in schema order. */
export function listSettings(): SettingInfo[] {
  if (!cached) {
    cached = [];
    walk(configSchema as unknown as AnySchema, "", cached);
  }
  return cached;
}
