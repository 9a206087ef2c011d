/** `holdfast load <url>`: open- or closed-loop load test with HDR latency, generator lag, client- and server-side SLO verdicts, JSON and HTML reports. */
import { writeFile } from "node:fs/promises";
import { errors } from "../../errors/index.js";
import {
  AdminSampler,
  evaluateSlo,
  formatSummary,
  loadScenario,
  type LoadResult,
  ProgressLine,
  parseLoadDuration,
  parseSlo,
  percentilesNeeded,
  renderReport,
  type RequestSpec,
  type Scenario,
  ScenarioError,
  type ServerSummary,
  type SloTerm,
  type Stage,
  runLoad,
} from "../../load/index.js";
import { parseAdminUrl } from "../admin-url.js";
import type { Command } from "../command.js";
import { EXIT } from "../exit-codes.js";
import { shownArguments } from "../hide-secret-arguments.js";
import { str, strs } from "../parse-args.js";

function positiveNumber(flag: string, v: string | undefined, fallback: number | undefined): number | undefined {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw errors.usage(`--${flag} must be a number above 0, got "${v}".`);
  return n;
}

function durationFlag(flag: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const ms = parseLoadDuration(v);
  if (ms === undefined || ms <= 0) throw errors.usage(`--${flag} must be a duration: a number of seconds (10) or with a unit (10s, 500ms, 2m), got "${v}".`);
  return ms;
}

/** "--stage 30s:200" → 200 req/s for 30 s (k6's --stage DURATION:TARGET, held constant). */
function stageFlag(v: string): Stage {
  const m = /^([^:]+):\s*(\d+(?:\.\d+)?)$/.exec(v.trim());
  const durationMs = m ? parseLoadDuration(m[1] as string) : undefined;
  if (!m || durationMs === undefined || durationMs <= 0)
    throw errors.usage(`--stage "${v}" should be DURATION:RATE, e.g. --stage 30s:200 (200 requests/s for 30 seconds).`);
  return { durationMs, rate: Number(m[2]) };
}

const command: Command = {
  arguments: "<url> [options]",
  shortFlagHint: "connections are -u, --connections",
  description: `Sends requests at a constant rate (open loop: the schedule never waits for the server, and
latency counts from each request's scheduled send time, so a stalling server cannot hide its
queue), or from N clients back to back (--closed). Reports status counts, connection errors,
HDR latency percentiles, a per-second timeline and the generator's own schedule lag. With
--admin it also samples holdfast's admin endpoint once a second and judges server-side SLOs.

Durations: a bare number is SECONDS (--duration 10 = 10 s); units ms, s, m are accepted.`,
  options: [
    { flag: "--rate <n>", description: "requests per second (open loop; default 100)" },
    { flag: "--duration <d>", description: "how long to send (default 10s)" },
    {
      flag: "--stage <d:rate>",
      multiple: true,
      description: "a stage of the schedule, repeatable: --stage 10s:100 --stage 30s:500 (each holds RATE req/s for D; replaces --rate and --duration)",
    },
    {
      flag: "--connections <n>",
      description: "most connections / requests in flight (default 256 open, 16 closed); short -u (k6's --vus), since -c is --config in every command",
    },
    { flag: "--closed", description: "closed loop: --connections clients, each sends when its last answer arrived" },
    { flag: "--method <m>", description: "HTTP method (default GET, or POST with --body)" },
    { flag: "--body <text>", description: "request body (sets content-type: application/json unless --header gives one)" },
    { flag: "--header <'name: value'>", multiple: true, description: "request header, e.g. -H 'authorization: Bearer …' (repeatable)" },
    { flag: "--scenario <file>", description: "weighted requests with {{id}} templates, and stages (JSON; see docs/load.md)" },
    { flag: "--timeout <d>", description: "per-request timeout (default 60s); a request past it counts as a timeout" },
    {
      flag: "--slo <list>",
      description: `comma-separated terms, e.g. "p95<300ms,error-rate<1%,pool.utilization<80%".
client: p50 p90 p95 p99 p999 or any pNN / pNN.N, mean, max (add _2xx for successful responses only); error-rate (5xx + connection errors and timeouts, of all requests sent); conn-errors; 5xx; 4xx; non-2xx; a status code (502<1%); goodput>N (2xx/s); lag-p99<Xms.
server (needs --admin): pool.utilization<80%, pool-timeouts==0, lock-timeouts==0, worker.restarts==0, shed<1%, loop-lag-p99<50ms.
seed (alias postmortem): 502<1%, p99<5s, pool.utilization<80%, lock-timeouts==0, worker.restarts==0.
Operators < <= > >= ==; latency in ms or s, shares in % (or a fraction)`,
    },
    { flag: "--admin <url>", multiple: true, description: "holdfast admin endpoint to sample once a second (repeatable, one per instance)" },
    { flag: "--token <token>", description: "bearer token for --admin (default $HOLDFAST_ADMIN_TOKEN); --admin-token is the same" },
    { flag: "--admin-token <token>", description: "same as --token", hidden: true },
    { flag: "--json", description: "print the result as one JSON object (snake_case, with a per-second timeline)" },
    { flag: "--report <file>", description: "write a self-contained HTML report (charts, verdicts, server series)" },
    {
      flag: "--stamp-request-start",
      description:
        "send X-Request-Start with the time each request is sent (as a proxy stamps its arrival), so a server that reads it (holdfast does) sees time queued before it could read the request; only when client and server share a clock (same machine)",
    },
  ],
  epilog: `Progress goes to stderr: one line redrawn in place on a terminal, a line a second otherwise.

Exit code: 0 done and every SLO met, 1 an SLO failed, 2 bad usage (or an --admin endpoint that
cannot be read before the run).

Examples:
  holdfast load http://127.0.0.1:3000/notes --rate 500 --duration 30 --slo "p95<250ms,error-rate<1%"
  holdfast load http://127.0.0.1:8080/api --rate 1000 --duration 60s --admin http://127.0.0.1:9464 \\
      --slo seed --report load.html`,
  async run({ values, positionals }, argv) {
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
    const adminTargets = strs(values.admin).map(parseAdminUrl);
    const admins = adminTargets.map((a) => a.url);
    const serverTerms = slo.filter((t) => t.source === "server");
    if (serverTerms.length > 0 && admins.length === 0) {
      throw errors.usage(
        `--slo ${serverTerms.map((t) => t.text).join(",")} is judged from the server's admin endpoint: add --admin http://127.0.0.1:9464 (one per instance).`,
      );
    }
    const closed = values.closed === true;
    let scenario: Scenario | undefined;
    const scenarioFile = str(values.scenario);
    if (scenarioFile) {
      if (values.method !== undefined || values.body !== undefined)
        throw errors.usage("--scenario gives each request's method and body: drop --method/--body, or drop --scenario.");
      try {
        scenario = await loadScenario(scenarioFile);
      } catch (err) {
        if (err instanceof ScenarioError) throw errors.usage(err.message);
        throw err;
      }
    }
    let stages: Stage[] | undefined = strs(values.stage).map(stageFlag);
    if (stages.length === 0) stages = scenario?.stages;
    else if (scenario?.stages) throw errors.usage(`${scenarioFile} has stages and --stage was given too: use one of them.`);
    if (stages && (values.rate !== undefined || values.duration !== undefined))
      throw errors.usage("stages (--stage or the scenario's) set the rate and duration: drop --rate/--duration.");
    if (stages && closed) throw errors.usage("stages shape an open-loop schedule; --closed has none. Drop --closed or the stages.");
    const headers: Record<string, string> = {};
    for (const h of strs(values.header)) {
      const i = h.indexOf(":");
      if (i <= 0) throw errors.usage(`--header "${h}" should look like "Name: value".`);
      headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
    }
    const body = str(values.body);
    if (body !== undefined && !headers["content-type"]) headers["content-type"] = "application/json";
    const method = (str(values.method) ?? (body !== undefined ? "POST" : "GET")).toUpperCase();
    const spec: RequestSpec = { method, path: `${parsed.pathname}${parsed.search}`, headers, body };
    const request = scenario
      ? (i: number): RequestSpec => {
          const q = (scenario as Scenario).request(i);
          return { ...q, headers: { ...headers, ...q.headers } };
        }
      : () => spec;
    const connections = positiveNumber("connections", str(values.connections), undefined);
    const json = values.json === true;
    const reportFile = str(values.report);
    const token = str(values.token) ?? str(values["admin-token"]) ?? adminTargets.find((a) => a.token)?.token ?? process.env.HOLDFAST_ADMIN_TOKEN;

    const startedAt = new Date();
    const start = performance.now();
    let sampler: AdminSampler | undefined;
    if (admins.length > 0) {
      sampler = new AdminSampler(admins, { token, start });
      const failed = await sampler.prime();
      if (failed.length > 0)
        throw errors.usage(
          `cannot read the admin endpoint before the run, so server-side figures would be wrong:\n  ${failed.join("\n  ")}\nCheck the --admin address (holdfast serve prints it at start) and --token.`,
        );
      sampler.start();
    }
    const progress = json ? undefined : new ProgressLine(process.stderr);
    let result: LoadResult;
    try {
      result = await runLoad({
        url,
        mode: closed ? "closed" : "open",
        rate: positiveNumber("rate", str(values.rate), 100),
        durationMs: durationFlag("duration", str(values.duration), 10_000),
        stages,
        connections: connections === undefined ? undefined : Math.floor(connections),
        timeoutMs: durationFlag("timeout", str(values.timeout), 60_000),
        request,
        percentiles: percentilesNeeded(slo),
        stampRequestStart: values["stamp-request-start"] === true,
        onTick: progress && ((t) => progress.update(t)),
      });
    } catch (err) {
      // Stop sampling so a failed run does not keep the process alive on the sampler's timer.
      await sampler?.stop().catch(() => undefined);
      throw err;
    } finally {
      progress?.done();
    }
    let server: ServerSummary | undefined;
    if (sampler) {
      if (!json) process.stderr.write("  reading the admin endpoints once more for the workers' last reports…\n");
      server = await sampler.stop();
    }
    const verdicts = evaluateSlo(result, slo, server);
    if (reportFile) {
      // Secrets (--token, credential headers, URL passwords) must not end up in a file people attach to tickets.
      const shown = shownArguments(argv);
      const command = ["holdfast", "load", ...shown.map((a) => (/[\s"'<>|&;]/.test(a) ? JSON.stringify(a) : a))].join(" ");
      await writeFile(reportFile, renderReport({ result, verdicts, server, command, startedAt }));
      if (!json) process.stderr.write(`  report written to ${reportFile}\n`);
    }
    if (json) process.stdout.write(`${JSON.stringify({ ...result, ...(server ? { server } : {}), slo: verdicts })}\n`);
    else process.stdout.write(formatSummary(result, verdicts, server));
    return verdicts.every((v) => v.ok) ? EXIT.OK : EXIT.PROBLEMS;
  },
};

export default command;
