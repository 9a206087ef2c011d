/** `holdfast load <url>`: open- or closed-loop load test with HDR latency, generator lag and SLO verdicts. */
import { parseDuration } from "../../config/index.js";
import { errors } from "../../errors/index.js";
import { evaluateSlo, formatSummary, parseSlo, runLoad, type SloTerm } from "../../load/index.js";
import type { Command } from "../command.js";
import { parseFlags, str, strs } from "../parse-args.js";

function positiveNumber(flag: string, v: string | undefined, fallback: number | undefined): number | undefined {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw errors.usage(`--${flag} must be a number above 0, got "${v}".`);
  return n;
}

function durationFlag(flag: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const ms = parseDuration(v);
  if (ms === undefined || ms <= 0) throw errors.usage(`--${flag} must be a duration such as 10s or 500ms, got "${v}".`);
  return ms;
}

const command: Command = {
  summary: "Load-test a URL (open or closed loop) and judge it against SLOs: p99, errors, 5xx.",
  usage: `Usage: holdfast load <url> [options]

Sends requests at a constant rate (open loop: the schedule never waits for the server, and
latency counts from each request's scheduled send time, so a stalling server cannot hide its
queue), or from N clients back to back (--closed). Reports status counts, connection errors,
HDR latency percentiles and the generator's own schedule lag.

Options:
  --rate N           requests per second (open loop; default 100)
  --duration D       how long to send, e.g. 10s, 2m (default 10s)
  --connections N    most connections / requests in flight (default 256 open, 16 closed)
  --closed           closed loop: --connections clients, each sends when its last answer arrived
  --method M         HTTP method (default GET)
  --body TEXT        request body (sets content-type: application/json unless --header gives one)
  --header 'K: V'    request header (repeatable)
  --timeout D        per-request timeout (default 60s); a request past it counts as error "timeout"
  --slo LIST         e.g. "p99<500ms,error-rate<1%,5xx<1%"; metrics p50 p90 p99 p999 mean max
                     (add _2xx for successful responses only), error-rate, 5xx, 4xx, non-2xx, a
                     status code (502<0.1%), goodput>N (2xx/s), lag-p99<Xms
  --stamp-request-start
                     send X-Request-Start with each request's scheduled time, so a server that
                     reads it (holdfast does) sees time queued before it could read the request;
                     only when client and server share a clock (same machine)
  --json             print the result as one JSON object

Exit code: 0 done (SLOs met), 1 an SLO was violated, 2 bad usage.

Example:
  holdfast load http://127.0.0.1:3000/notes --rate 500 --duration 30s --slo "p99<250ms,5xx<1%"`,
  async run(argv) {
    const { values, positionals } = parseFlags("load", argv, {
      rate: { type: "string", short: "r" },
      duration: { type: "string", short: "d" },
      connections: { type: "string", short: "c" },
      closed: { type: "boolean" },
      method: { type: "string", short: "X" },
      body: { type: "string" },
      header: { type: "string", short: "H", multiple: true },
      timeout: { type: "string" },
      slo: { type: "string" },
      json: { type: "boolean" },
      "stamp-request-start": { type: "boolean" },
    });
    const url = positionals[0];
    if (!url) throw errors.usage("holdfast load needs a URL, e.g. `holdfast load http://127.0.0.1:3000/ --rate 200 --duration 10s`.");
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw errors.usage(`"${url}" is not a URL; give one like http://127.0.0.1:3000/path.`);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw errors.usage(`holdfast load speaks http and https, not ${parsed.protocol}`);
    let slo: SloTerm[] = [];
    try {
      slo = str(values.slo) ? parseSlo(str(values.slo) as string) : [];
    } catch (err) {
      throw errors.usage(`--slo: ${(err as Error).message}`);
    }
    const headers: Record<string, string> = {};
    for (const h of strs(values.header)) {
      const i = h.indexOf(":");
      if (i <= 0) throw errors.usage(`--header "${h}" should look like "Name: value".`);
      headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
    }
    const body = str(values.body);
    if (body !== undefined && !headers["content-type"]) headers["content-type"] = "application/json";
    const method = (str(values.method) ?? (body !== undefined ? "POST" : "GET")).toUpperCase();
    const spec = { method, path: `${parsed.pathname}${parsed.search}`, headers, body };
    const closed = values.closed === true;
    const connections = positiveNumber("connections", str(values.connections), undefined);
    const json = values.json === true;
    const result = await runLoad({
      url,
      mode: closed ? "closed" : "open",
      rate: positiveNumber("rate", str(values.rate), 100),
      durationMs: durationFlag("duration", str(values.duration), 10_000),
      connections: connections === undefined ? undefined : Math.floor(connections),
      timeoutMs: durationFlag("timeout", str(values.timeout), 60_000),
      request: () => spec,
      stampRequestStart: values["stamp-request-start"] === true,
      onTick: json
        ? undefined
        : (t) => process.stderr.write(`  ${(t.elapsedMs / 1000).toFixed(0)}s: sent ${t.sent}, answered ${t.completed}, in flight ${t.inflight}\n`),
    });
    const verdicts = evaluateSlo(result, slo);
    if (json) process.stdout.write(`${JSON.stringify({ ...result, slo: verdicts })}\n`);
    else process.stdout.write(formatSummary(result, verdicts));
    return verdicts.every((v) => v.ok) ? 0 : 1;
  },
};

export default command;
