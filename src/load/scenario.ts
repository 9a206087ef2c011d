/**
 * Scenario files for `holdfast load --scenario file.json`: weighted requests whose path, headers
 * and body may hold `{{id}}` (a random integer in the request's `ids` range, drawn from a seeded
 * generator so a run can be repeated), and stages of constant rates. JSON only: YAML would need
 * a parser dependency for a file people write a dozen lines of.
 */
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { parseLoadDuration } from "./load-duration.js";
import type { RequestSpec, Stage } from "./types.js";

const idRange = z.tuple([z.number().int(), z.number().int()]).refine(([a, b]) => a <= b, { message: "ids is [lowest, highest] with lowest ≤ highest" });

const requestSchema = z.strictObject({
  /** Relative share of this request (default 1). */
  weight: z.number().positive().default(1),
  method: z
    .string()
    .regex(/^[A-Za-z]+$/, { message: "method is a word such as GET or POST" })
    .default("GET"),
  /** Path with query; `{{id}}` is replaced per request. */
  path: z.string().startsWith("/", { message: 'path starts with "/", e.g. "/notes/{{id}}"' }),
  headers: z.record(z.string(), z.string()).default({}),
  /** A string, or JSON that is sent serialised (content-type application/json unless headers name one). */
  body: z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())]).optional(),
  /** Range of `{{id}}`, inclusive; default the scenario's `ids`. */
  ids: idRange.optional(),
});

const stageSchema = z.strictObject({
  /** "10s", "500ms", "2m", or a number of seconds. */
  duration: z.union([z.string(), z.number()]),
  /** Requests per second during this stage. */
  rate: z.number().min(0),
});

const scenarioSchema = z.strictObject({
  requests: z.array(requestSchema).min(1, { message: "a scenario needs at least one request" }),
  /** Default range of `{{id}}`, inclusive (default [1, 1000]). */
  ids: idRange.default([1, 1000]),
  stages: z.array(stageSchema).min(1).optional(),
  /** Seed of the id and weight draws (default: a new one each run). */
  seed: z.number().int().optional(),
});

/** A loaded scenario: the request function and the stages, if any. */
export interface Scenario {
  request: (i: number) => RequestSpec;
  stages: Stage[] | undefined;
  seed: number;
}

/** Thrown for a scenario file that does not fit, with the file and the field in the message. */
export class ScenarioError extends Error {}

/** A small fast seeded generator (mulberry32): the same seed gives the same ids and mix. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A string with `{{id}}` holes, split once so each request only joins pieces. */
function template(text: string, where: string): (id: number) => string {
  const unknown = /\{\{\s*(?!id\s*\}\})([^}]*)\}\}/.exec(text);
  if (unknown) throw new ScenarioError(`${where}: unknown placeholder {{${unknown[1]}}}; the one placeholder is {{id}}`);
  const parts = text.split(/\{\{\s*id\s*\}\}/);
  if (parts.length === 1) return () => text;
  return (id) => parts.join(String(id));
}

/** Builds a scenario from parsed JSON; `file` names it in errors. */
export function buildScenario(json: unknown, file: string): Scenario {
  const r = scenarioSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    const at = i?.path.length ? i.path.join(".") : "top level";
    throw new ScenarioError(`${file}: ${at}: ${i?.message ?? "invalid"}. See docs/load.md, "Scenario files".`);
  }
  const s = r.data;
  const seed = s.seed ?? Math.floor(Math.random() * 2 ** 31);
  const rand = mulberry32(seed);
  const reqs = s.requests.map((q, k) => {
    const where = `${file}: requests.${k}`;
    const headers = Object.fromEntries(Object.entries(q.headers).map(([h, v]) => [h.toLowerCase(), template(v, `${where}.headers.${h}`)] as const));
    let body: ((id: number) => string) | undefined;
    if (q.body !== undefined) {
      body = template(typeof q.body === "string" ? q.body : JSON.stringify(q.body), `${where}.body`);
      if (typeof q.body !== "string" && !("content-type" in headers)) headers["content-type"] = () => "application/json";
    }
    const [lo, hi] = q.ids ?? s.ids;
    return {
      weight: q.weight,
      method: q.method.toUpperCase(),
      path: template(q.path, `${where}.path`),
      headers: Object.entries(headers),
      body,
      lo,
      span: hi - lo + 1,
    };
  });
  const total = reqs.reduce((a, q) => a + q.weight, 0);
  const cumulative = reqs.map(
    (
      (acc) => (q: { weight: number }) =>
        (acc += q.weight / total)
    )(0),
  );
  const stages = s.stages?.map((st, k) => {
    const durationMs = parseLoadDuration(st.duration);
    if (durationMs === undefined || durationMs <= 0)
      throw new ScenarioError(`${file}: stages.${k}.duration: "${st.duration}" is not a duration such as 10s, 500ms, 2m or a number of seconds`);
    return { durationMs, rate: st.rate };
  });
  const request = (): RequestSpec => {
    const x = rand();
    let k = 0;
    while (k < reqs.length - 1 && x >= (cumulative[k] as number)) k++;
    const q = reqs[k] as (typeof reqs)[number];
    const id = q.lo + Math.floor(rand() * q.span);
    const headers: Record<string, string> = {};
    for (const [h, t] of q.headers) headers[h] = t(id);
    return { method: q.method, path: q.path(id), headers, body: q.body?.(id) };
  };
  return { request, stages, seed };
}

/** Reads and builds a scenario file. */
export async function loadScenario(file: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "it is a directory" : (err as Error).message;
    throw new ScenarioError(`cannot read scenario file ${file}: ${why}. Give the path of a JSON scenario (docs/load.md, "Scenario files").`);
  }
  if (/\.ya?ml$/i.test(file)) throw new ScenarioError(`${file}: scenario files are JSON (YAML is not read); see docs/load.md, "Scenario files".`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ScenarioError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  return buildScenario(json, file);
}
