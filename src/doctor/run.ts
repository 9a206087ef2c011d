/** The doctor end to end: configs → logs → probes → rules → ranked findings. The in-process API behind the CLI. */
import { layersFromConfig, loadConfig, type TimeoutLayers } from "../config/index.js";
import { parseDatabaseUrl } from "../db/index.js";
import { type FleetFigures, type FleetSample, fleetFigures } from "../monitor/index.js";
import { redactUrl } from "../telemetry/index.js";
import { analyze, isHealthy } from "./analyze.js";
import { type CollectOptions, collectLogs, emptyDataset, type LogInput } from "./collect.js";
import { type AdminProbe, probeAdmin } from "./probes/admin.js";
import { probePostgres } from "./probes/postgres.js";
import { probeSqlite } from "./probes/sqlite.js";
import { probeSystem } from "./probes/system.js";
import { mergeProxyLayers, readHaproxyConfig, readNginxConfig } from "./proxy-config/index.js";
import { readProxyConfigFile } from "./proxy-config/read-config-file.js";
import type { Dataset, Finding, ProxyConfigFacts } from "./types.js";

/** Options of {@link runDoctor}; every input is optional. */
export interface DoctorOptions {
  /** holdfast config file (timeouts, pool, database URL). */
  configFile?: string | undefined;
  /** Database to probe: "sqlite:./data/app.db" or "postgres://…". Default: the config's db.url when a config is given. */
  db?: string | undefined;
  /** Admin endpoints of running instances. */
  admin?: string[] | undefined;
  /** Bearer token for the admin endpoints. */
  adminToken?: string | undefined;
  logs?: LogInput[] | undefined;
  /** nginx config file or `nginx -T` output. */
  nginxConfig?: string | undefined;
  haproxyConfig?: string | undefined;
  /** nginx log_format string for the access log; default: from --nginx-config, else combined. */
  nginxLogFormat?: string | undefined;
  since?: number | undefined;
  until?: number | undefined;
  /** Run the host probe (load, memory, disk, fds, listen overflows). Default true. */
  system?: boolean | undefined;
  /** Progress bar on stderr when it is a TTY. Default true. */
  progress?: boolean | undefined;
}

/** What the doctor found. */
export interface DoctorResult {
  findings: Finding[];
  /** No finding above info. */
  healthy: boolean;
  data: Dataset;
  /** With --admin: each instance's counts since it started, and their sum (the figures `holdfast monitor --once` prints). */
  instances?: FleetFigures | undefined;
}

async function attempt<T>(data: Dataset, probe: string, fn: () => Promise<T> | T): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    data.probes.errors.push({ probe, message: (err as Error).message, at: Date.now() });
    return undefined;
  }
}

/** Runs the whole diagnosis. Throws only for bad usage (unreadable config); logs and probes never abort it. */
export async function runDoctor(o: DoctorOptions): Promise<DoctorResult> {
  const data = emptyDataset();
  let layers: TimeoutLayers | undefined;
  let dbUrl = o.db;
  let busyTimeout: number | undefined;
  if (o.configFile) {
    const { config } = await loadConfig({ configFile: o.configFile });
    layers = layersFromConfig(config);
    dbUrl ??= config.db.url;
    busyTimeout = config.db.sqlite.busyTimeout;
  }
  let facts: ProxyConfigFacts | undefined;
  if (o.nginxConfig) facts = readNginxConfig(readProxyConfigFile(o.nginxConfig, "--nginx-config"), o.nginxConfig);
  else if (o.haproxyConfig) facts = readHaproxyConfig(readProxyConfigFile(o.haproxyConfig, "--haproxy-config"), o.haproxyConfig);
  data.proxyConfig = facts;
  data.timeouts = mergeProxyLayers(layers, facts);
  // The dataset is printed (--json) and may be shared: it carries the URL without its secrets.
  data.dbUrl = dbUrl === undefined ? undefined : redactUrl(dbUrl);

  const collect: CollectOptions = { since: o.since, until: o.until, nginxLogFormat: o.nginxLogFormat ?? facts?.accessLogFormat, progress: o.progress };
  await collectLogs(o.logs ?? [], collect, data);

  // Read the URL as the database opener does; one it cannot open is a probe error, not a silent skip.
  const target = dbUrl === undefined ? undefined : await attempt(data, "database url", () => parseDatabaseUrl(dbUrl as string));
  const sqliteFile = target?.dialect === "sqlite" && target.path !== ":memory:" ? target.path : undefined;
  if (sqliteFile) {
    const p = await attempt(data, "sqlite", () => probeSqlite(sqliteFile, busyTimeout));
    if (p) data.probes.sqlite = [p];
  } else if (target?.dialect === "postgres") {
    data.probes.postgres = await attempt(data, "postgres", () => probePostgres(target.url));
  }
  const token = o.adminToken;
  const admins: AdminProbe[] = [];
  const samples: FleetSample[] = [];
  for (const url of o.admin ?? []) {
    const a = await attempt(data, `admin ${redactUrl(url)}`, () => probeAdmin(url, token));
    if (a) admins.push(a);
    samples.push({ instance: redactUrl(url).replace(/\/+$/, ""), status: a?.status, error: data.probes.errors.at(-1)?.message });
  }
  if (admins.length) data.probes.admin = admins;

  // The processes of the instances the admin endpoints describe, when they run on this host.
  const pids = admins
    .flatMap((a) => [a.status?.instance?.pid, ...(a.status?.workers ?? []).map((w) => w.pid)])
    .filter((p): p is number => typeof p === "number");
  if (o.system !== false) {
    const paths = [...(o.logs ?? []).map((l) => l.file), ...(sqliteFile ? [sqliteFile] : [])];
    data.probes.system = await attempt(data, "system", () => probeSystem(paths.length ? paths : ["."], 500, pids));
  }
  const findings = analyze(data);
  return { findings, healthy: isHealthy(findings), data, instances: samples.length ? fleetFigures(samples) : undefined };
}
