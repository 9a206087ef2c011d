/**
 * The doctor's shared types: records the readers produce, the dataset the rules read,
 * and the Finding they return. Confidence is a number 0..1 (documented in docs/doctor.md):
 * ≥ 0.8 "the evidence names this cause", 0.5–0.8 "likely", below 0.5 "possible".
 */
import type { TimeoutLayers } from "../config/index.js";

/** How bad a finding is; anything above "info" makes `holdfast doctor` exit 1. */
export type Severity = "critical" | "error" | "warning" | "info";

/** One line quoted as evidence, with where it came from. */
export interface Sample {
  file: string;
  line: number;
  text: string;
}

/** A time window in epoch milliseconds (ISO strings in the JSON report). */
export interface TimeWindow {
  from: number;
  to: number;
}

/** What a finding rests on. */
export interface Evidence {
  /** One sentence with the numbers, e.g. "412 of 430 502s between 14:02 and 14:09 follow worker.timeout on pid 4121". */
  summary: string;
  counts: Record<string, number>;
  window?: TimeWindow | undefined;
  /** 1–3 lines quoted from the logs. */
  samples: Sample[];
}

/** The change that removes the cause, as exact config lines per layer. */
export interface Fix {
  summary: string;
  holdfast?: string | undefined;
  nginx?: string | undefined;
  haproxy?: string | undefined;
  alb?: string | undefined;
  /** The same change in the words of the stack the logs show (gunicorn flags, Python sqlite3, knex, HikariCP, …). */
  stack?: StackFix | undefined;
  /** A safe action `holdfast doctor --fix --yes` may apply (SQLite maintenance only). */
  action?: SafeAction | undefined;
}

/** A fix written for the app's own stack, named after it ("gunicorn", "python sqlite3", "knex", …). */
export interface StackFix {
  /** Which stack the logs showed, e.g. "gunicorn" or "knex". */
  name: string;
  /** Exact lines (flags, options, code) for that stack. */
  lines: string;
}

/** Where a finding sits in the causal model: a configuration cause, an app-level cause, or a proxy symptom. */
export type FindingLayer = "config" | "app" | "symptom";

/** One link of a causal chain: `from` produces `to`, with the evidence that joins them. */
export interface CausalLink {
  /** Id of the deeper finding (the cause). */
  from: string;
  /** Id of the finding it produces (the effect). */
  to: string;
  /** Failed requests both findings account for. */
  shared: number;
  /**
   * Measured time from the effect's record to the cause's record, in ms, median over the joined
   * pairs: positive when the cause was logged after the effect (an app error written after the
   * proxy had already answered 504). Undefined when the link is not a pairing of records.
   */
  lagMs?: number | undefined;
  /** Spread of that lag (max − min over the pairs, ms). */
  lagSpreadMs?: number | undefined;
  /** One sentence: why the one produces the other. */
  evidence: string;
}

/** Maintenance the doctor may apply itself; every one starts with an online backup. */
export interface SafeAction {
  kind: "sqlite-wal" | "sqlite-checkpoint" | "sqlite-optimize";
  /** SQLite file the action applies to. */
  path: string;
}

/** One diagnosed cause. */
export interface Finding {
  /** Stable id of the cause, e.g. "keepalive-race" (see docs/doctor.md). */
  id: string;
  title: string;
  severity: Severity;
  /** 0..1: how sure the doctor is that this cause is real. */
  confidence: number;
  /** Failed requests (proxy 5xx) this cause accounts for; the report is ranked by it. */
  explains: number;
  evidence: Evidence;
  fix: Fix;
  /** Ids of the findings this one produces (downstream). Filled by analyze(). */
  causes?: string[] | undefined;
  /** Ids of the deeper findings that produce this one. Filled by analyze(). */
  explainedBy?: string[] | undefined;
  /** The links to the findings in `causes` and `explainedBy`, each with its evidence and time lag. */
  links?: CausalLink[] | undefined;
}

/** Kinds of log the doctor reads. */
export type LogKind = "nginx-access" | "nginx-error" | "haproxy" | "alb" | "app";

/** A request as the proxy saw it (nginx access, HAProxy, ALB). */
export interface ProxyRecord {
  source: "nginx-access" | "haproxy" | "alb";
  /** Epoch ms; NaN when the line carried no usable time. */
  time: number;
  status: number;
  method?: string | undefined;
  path?: string | undefined;
  /** nginx $upstream_status (may be "502, 200" after retries), ALB target_status_code, HAProxy has none. */
  upstreamStatus?: string | undefined;
  /** Seconds the upstream took (nginx $upstream_response_time, last try; ALB target_processing_time). -1 when none. */
  upstreamTime?: number | undefined;
  /** Seconds the whole request took. */
  requestTime?: number | undefined;
  /** Upstream connect time in seconds (nginx $upstream_connect_time, HAProxy Tc). -1 when it never connected. */
  connectTime?: number | undefined;
  /** HAProxy termination state, e.g. "SC--", "sH--". */
  termState?: string | undefined;
  /** ALB error_reason, e.g. "TargetConnectionError". */
  errorReason?: string | undefined;
  /** Upstream address or HAProxy backend/server. */
  upstream?: string | undefined;
  requestId?: string | undefined;
}

/** Classified proxy error-log message (nginx error log, HAProxy alerts). */
export type ProxyErrorKind =
  | "upstream-closed"
  | "upstream-reset"
  | "connect-refused"
  | "connect-timeout"
  | "connect-eagain"
  | "read-timeout"
  | "no-live-upstreams"
  | "header-too-big"
  | "fd-limit"
  | "disk-full"
  | "other";

/** One nginx error-log line. */
export interface ProxyErrorRecord {
  source: "nginx-error";
  time: number;
  level: string;
  kind: ProxyErrorKind;
  /** Error phase: "reading response header", "connecting", … */
  phase?: string | undefined;
  upstream?: string | undefined;
  request?: string | undefined;
  message: string;
}

/** One application event: holdfast JSON or a classified plain-text line from another stack. */
export interface AppRecord {
  source: "app";
  time: number;
  /** holdfast event name, or the mapped name for foreign lines (e.g. gunicorn WORKER TIMEOUT → "worker.timeout"). */
  event: string;
  level?: string | undefined;
  pid?: number | undefined;
  reqId?: string | undefined;
  /** Where the line came from: "holdfast", "gunicorn", "knex", "pg", "sqlite", "postgres", "node", "text". */
  origin: string;
  fields: Record<string, unknown>;
  /** Request method and path when the app logged them (joins to the proxy's request line). */
  method?: string | undefined;
  path?: string | undefined;
  /** When the app began the request this event belongs to (epoch ms), from an app request line with its duration. */
  startedAt?: number | undefined;
  /** True when the time was written without a zone (read as local time; may need shifting). */
  zoneless?: boolean | undefined;
}

/** A parsed record with its place in the file. */
export interface Located<R> {
  record: R;
  file: string;
  line: number;
  /** The raw line, kept only for records that may be quoted as evidence. */
  text: string;
}

/** Results of the probes; each part is missing when that probe did not run or failed. */
export interface ProbeResults {
  sqlite?: import("./probes/sqlite.js").SqliteProbe[] | undefined;
  postgres?: import("./probes/postgres.js").PostgresProbe | undefined;
  system?: import("./probes/system.js").SystemProbe | undefined;
  admin?: import("./probes/admin.js").AdminProbe[] | undefined;
  /** Probe failures, reported as info findings; `at` is when the probe ran (epoch ms): about now, not the logs. */
  errors: { probe: string; message: string; at?: number | undefined }[];
}

/** Facts read from a proxy config (nginx or HAProxy). */
export interface ProxyConfigFacts {
  kind: "nginx" | "haproxy";
  file: string;
  /** ms */
  proxyReadTimeout?: number | undefined;
  /** ms; nginx keepalive_timeout inside an upstream block, HAProxy timeout http-keep-alive. */
  upstreamIdleTimeout?: number | undefined;
  /** nginx `keepalive N` in an upstream block (idle connections cached). */
  upstreamKeepalive?: number | undefined;
  proxyNextUpstream?: string | undefined;
  proxyBufferSize?: number | undefined;
  /** nginx log_format definitions by name. */
  logFormats: Record<string, string>;
  /** Format named by the first access_log, when it is not "combined". */
  accessLogFormat?: string | undefined;
  /** HAProxy `timeout connect`, ms. */
  connectTimeout?: number | undefined;
}

/** Per-file reading statistics (garbage is counted, never fatal). */
export interface FileStats {
  file: string;
  kind: LogKind;
  bytes: number;
  lines: number;
  records: number;
  garbage: number;
  /** Records outside --since/--until. */
  outOfWindow: number;
  /** Proxy alert lines (HAProxy's server state changes): read, but not requests. */
  notices?: number | undefined;
  /** App-log lines that continued the event above them (traceback lines): part of one record, not records themselves. */
  continued?: number | undefined;
  garbageSamples: Sample[];
}

/** Everything the rules read. Built by collect.ts; rules never do I/O. */
export interface Dataset {
  /** Failed requests seen by a proxy (status ≥ 500), in file order. Capped; see `failedTotal`. */
  failures: Located<ProxyRecord>[];
  /** All proxy requests counted, by status. */
  statusCounts: Record<string, number>;
  proxyRequests: number;
  failedTotal: number;
  proxyErrors: Located<ProxyErrorRecord>[];
  /** HAProxy's own alert lines in its log ("Server app/app1 is DOWN, reason: …", "backend app has no server available!"): not requests, kept to quote (first 50). */
  proxyNotices?: Located<string>[] | undefined;
  /** App events except successful `request` events (those are only counted). */
  appEvents: Located<AppRecord>[];
  appRequests: number;
  /** App records read (kept or only counted) by origin ("holdfast", "json", "gunicorn", …): which stack wrote the app log. */
  appOrigins?: Record<string, number> | undefined;
  /** How far the nginx error log's local-time clock was shifted to match the access log (ms; 0 or undefined: none). */
  errorLogShiftMs?: number | undefined;
  /** How far zoneless app-log times were shifted to match the proxy's clock (ms; 0 or undefined: none). */
  appLogShiftMs?: number | undefined;
  /** True when no access log was given and failures were inferred from the proxy's error log. */
  inferredFailures?: boolean | undefined;
  files: FileStats[];
  /** Logs that could not be read to the end (missing, a directory, corrupt gzip); what was read is kept. */
  unreadable?: { file: string; message: string; lines: number }[] | undefined;
  probes: ProbeResults;
  proxyConfig?: ProxyConfigFacts | undefined;
  /** Timeout layers from the holdfast config merged with the proxy config; undefined without either. */
  timeouts?: TimeoutLayers | undefined;
  /** Where the holdfast config said the database is, for fix actions. */
  dbUrl?: string | undefined;
}

/** A rule: records and probe results in, findings out. Pure. */
export interface Rule {
  id: string;
  /** What it detects, one line (used by docs and `--list-rules`). */
  summary: string;
  run(data: Dataset, ctx: Correlation): Finding[];
}

/** One app event joined to one failure. */
export interface MatchPair {
  /** Index into data.failures. */
  failure: number;
  /** The app event. */
  event: Located<AppRecord>;
  /** Event time minus the failure's end time, ms (positive: the app logged it after the proxy ended the request). */
  lagMs: number;
  /** Event time minus the failure's start, ms, when the start is known. */
  sinceStartMs?: number | undefined;
  /** How the pair was joined. */
  by: "request-id" | "request-start" | "lag-pattern" | "death-window" | "lifetime";
}

/** What the proxy says happened to one failed request. */
export type FailureKind = ProxyErrorKind | "queue-timeout" | "app-5xx" | "unknown";

/** Per-run correlation state handed to every rule. */
export interface Correlation {
  /** kinds[i] classifies data.failures[i]. */
  kinds: FailureKind[];
  /** Index of the nginx error-log line behind failures[i], or -1. */
  errorLine: number[];
  /** Failure indices by request id (when the proxy logs one). */
  byReqId: Map<string, number>;
  /** Failure indices, claimed by a death of a worker (watchdog kill, crash, OOM). */
  deathClaimed: Set<number>;
  /** Which failures each finding counted in `explains`, so analyze() can count each failure once. */
  claims: Map<Finding, Set<number>>;
  /** The app events a finding joined to its failures, for the time lag of its causal links. */
  pairs: Map<Finding, MatchPair[]>;
}
