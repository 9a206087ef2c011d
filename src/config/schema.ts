/**
 * The one schema for every holdfast setting. Each key carries a one-line doc
 * (`.describe`) that `holdfast config --docs` and docs/configuration.md are generated from.
 *
 * Defaults fit a service behind a proxy whose upstream idle timeout is 60 s (nginx
 * `keepalive_timeout` upstream / ALB idle timeout): the app keeps idle sockets open
 * longer than the proxy does, so the proxy always closes first and never reuses a
 * socket the app is closing (the keep-alive race that produces sporadic 502s).
 */
import { availableParallelism } from "node:os";
import { z } from "zod";
import { deepFreeze } from "./deep-freeze.js";
import { parseDuration, parseSize } from "./duration.js";

/** A duration written as "30s", "250ms", "2m" or a number of milliseconds; parsed to ms. */
export function duration(def: string) {
  return z
    .union([z.string(), z.number()])
    .transform((v, ctx) => {
      const ms = parseDuration(v);
      if (ms === undefined) {
        ctx.addIssue({
          code: "custom",
          message: `expected a duration such as "30s", "250ms", "2m" or a number of milliseconds, got ${JSON.stringify(v)}`,
        });
        return z.NEVER;
      }
      return ms;
    })
    .meta({ unit: "duration" })
    .prefault(def);
}

/** A size written as "512MB", "1GB", or a number of bytes; parsed to bytes. 0 means off. */
export function size(def: string) {
  return z
    .union([z.string(), z.number()])
    .transform((v, ctx) => {
      const b = parseSize(v);
      if (b === undefined) {
        ctx.addIssue({ code: "custom", message: `expected a size such as "512MB", "1GB" or a number of bytes, got ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      return b;
    })
    .meta({ unit: "size" })
    .prefault(def);
}

/**
 * Like duration(), for a timer that can be switched off: "off" turns it off (stored as 0). A 0 is
 * refused: it is too easy to write by accident, and it would silently disable a safety net.
 */
export function durationOrOff(def: string, what: string) {
  return z
    .union([z.string(), z.number()])
    .transform((v, ctx) => {
      if (typeof v === "string" && v.trim().toLowerCase() === "off") return 0;
      const ms = parseDuration(v);
      if (ms === undefined) {
        ctx.addIssue({ code: "custom", message: `expected a duration such as "30s" or "250ms", or "off", got ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      if (ms === 0) {
        ctx.addIssue({ code: "custom", message: `0 would switch ${what} off. Write "off" if that is what you want, or a duration such as "30s"` });
        return z.NEVER;
      }
      return ms;
    })
    .meta({ unit: 'duration or "off"' })
    .prefault(def);
}

/** A number from a file, HOLDFAST_* or a flag; an empty string (HOLDFAST_PORT="") or a boolean is a mistake, not 0 or 1. */
const numeric = <T extends z.ZodType>(inner: T) =>
  z.preprocess((v) => ((typeof v === "string" && v.trim() === "") || typeof v === "boolean" ? Number.NaN : v), inner);
const port = (def: number) =>
  numeric(
    z.coerce
      .number({ error: "expected a port number from 0 to 65535 (0 picks a free port)" })
      .int("expected a whole port number from 0 to 65535")
      .min(0, "expected a port number from 0 to 65535 (0 picks a free port)")
      .max(65535, "expected a port number from 0 to 65535 (0 picks a free port)"),
  ).default(def);
const positiveInt = (def: number) => numeric(z.coerce.number().int().min(1)).default(def);
const nonNegativeInt = (def: number) => numeric(z.coerce.number().int().min(0)).default(def);
const bool = (def: boolean) =>
  z
    .union([z.boolean(), z.enum(["true", "false", "1", "0", "yes", "no", "on", "off"])])
    .transform((v) => (typeof v === "boolean" ? v : ["true", "1", "yes", "on"].includes(v)))
    .prefault(def);

const workers = z
  .union([z.literal("auto"), numeric(z.coerce.number().int().min(1).max(512))])
  .transform((v) => (v === "auto" ? availableParallelism() : v))
  .prefault("auto")
  .describe(
    'Number of worker processes; "auto" = os.availableParallelism(), the CPUs this process may run on (Node 20 ignores a container CPU quota: set it there). More workers than cores only take turns on them and cost CPU per request.',
  );

const timeouts = z
  .object({
    keepAlive: duration("65s").describe("How long an idle keep-alive connection stays open; must be above the proxy's upstream idle timeout."),
    headers: duration("66s").describe("How long a client may take to send request headers (Node headersTimeout); above keepAlive."),
    request: duration("0").describe("Hard cap on receiving a whole request, body included (Node requestTimeout); 0 lets the deadline govern."),
    deadline: duration("30s").describe("Time budget of one request: past it holdfast answers 504 and every database wait gives up."),
    heartbeat: durationOrOff("30s", "the stuck-worker watchdog").describe(
      'A worker whose event loop does not answer a heartbeat for this long is stuck: logged, killed and replaced ("off" disables the watchdog).',
    ),
    graceful: duration("30s").describe("On reload or shutdown, how long in-flight requests may take to finish before the worker is killed."),
  })
  .strict()
  .prefault({});

const proxy = z
  .object({
    idleTimeout: duration("60s").describe(
      "The proxy's idle timeout for upstream keep-alive connections (nginx keepalive_timeout in upstream, ALB idle timeout); a worker replaced by a reload keeps its idle connections open this long at most (plus 1 s), for the proxy to close them.",
    ),
    readTimeout: duration("60s").describe("The proxy's read timeout (nginx proxy_read_timeout, HAProxy timeout server)."),
  })
  .strict()
  .prefault({})
  .describe("What you declare about the proxy in front of holdfast, so the timeout budget can check the layers agree.");

const recycle = z
  .object({
    maxRequests: nonNegativeInt(0).describe("Replace a worker after this many requests (0 = never), like gunicorn max_requests."),
    maxRequestsJitter: nonNegativeInt(0).describe("Add up to this many requests at random to maxRequests so workers do not all recycle together."),
    maxRss: size("0").describe("Replace a worker whose resident memory stays above this size (0 = never)."),
  })
  .strict()
  .prefault({});

const restart = z
  .object({
    minUptime: duration("1s").describe(
      "A worker that was ready at least this long has served: when it dies (kill -9, OOM killer, crash) it is replaced at once and does not count toward a crash loop.",
    ),
    backoffInitial: duration("100ms").describe(
      "Delay before restarting a worker that died before it was ready; doubles on each such death in a row of the same slot.",
    ),
    backoffMax: duration("10s").describe("Upper bound of the restart delay."),
    crashLoopWindow: duration("60s").describe("Window in which early deaths (before minUptime) are counted for crash-loop detection."),
    crashLoopMax: positiveInt(10).describe(
      "More early deaths than this within crashLoopWindow is a crash loop (the app cannot start): holdfast stops with a clear error instead of spinning.",
    ),
  })
  .strict()
  .prefault({});

const admin = z
  .object({
    enabled: bool(true).describe("Serve the admin endpoint (/metrics, /status, /events, /healthz, /readyz)."),
    host: z.string().min(1).default("127.0.0.1").describe("Address of the admin endpoint; a non-loopback address requires a token."),
    port: port(9464).describe("Port of the admin endpoint (0 picks a free port)."),
    token: z
      .string()
      .min(16, "admin.token must be at least 16 characters")
      .optional()
      .describe("Bearer token required on the admin endpoint; mandatory when admin.host is not loopback. Never logged."),
  })
  .strict()
  .prefault({});

const log = z
  .object({
    file: z
      .string()
      .min(1)
      .default("-")
      .describe(
        'Where JSON log lines go: "-" (the default) for standard output, or a file path such as "logs/app.log" (its directory is created). Lines reach the file within 100 ms (written in batches of up to 4 KB, and at exit).',
      ),
    level: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info").describe("Lowest level logged."),
    pretty: z
      .enum(["auto", "always", "never"])
      .default("auto")
      .describe(
        "Readable output on the terminal (needs the optional pino-pretty package: npm install pino-pretty); auto = when standard output is a TTY and pino-pretty is installed, JSON lines otherwise. The log file is always JSON.",
      ),
    requests: z
      .preprocess((v) => (v === true || v === "true" ? "all" : v === false || v === "false" ? "off" : v), z.enum(["all", "errors", "off"]))
      .default("errors")
      .describe('`request` events: "all" finished requests, only "errors" (status 5xx or client gone), or "off". The proxy usually keeps the full access log.'),
  })
  .strict()
  .prefault({});

const pool = z
  .object({
    max: positiveInt(10).describe("Most connections per worker process (PostgreSQL) — mind max_connections ÷ workers."),
    min: nonNegativeInt(0).describe("Connections kept open even when idle."),
    acquireTimeout: duration("5s").describe("Longest wait for a free connection; the request's remaining deadline may cut it shorter."),
    maxWaiting: nonNegativeInt(1000).describe("Most callers queued for a connection; past it acquire fails at once with POOL_QUEUE_FULL."),
    idleTimeout: duration("10m").describe("Close a connection idle longer than this (down to min)."),
    maxLifetime: duration("30m").describe("Replace a connection older than this (with jitter), below any server or firewall limit."),
    validateAfterIdle: duration("5s").describe("Test a connection on borrow only when it sat idle longer than this."),
    keepaliveInterval: duration("0").describe("Ping idle connections this often so middleboxes do not drop them (0 = off)."),
    leakDetectionThreshold: duration("0").describe("Log a connection held longer than this, with the acquirer's stack (0 = off)."),
  })
  .strict()
  .prefault({});

const sqlite = z
  .object({
    readers: positiveInt(2).describe("Reader threads per process (capped at CPU cores − 1, measured faster); reads run beside the one writer thanks to WAL."),
    busyTimeout: duration("5s").describe("How long SQLite itself retries a locked database, inside the writer thread."),
    journalSizeLimit: size("64MB").describe("Truncate the WAL to this size after checkpoints."),
    walAutocheckpoint: positiveInt(1000).describe("Pages in the WAL before SQLite checkpoints on commit."),
    checkpointInterval: duration("30s").describe("How often the checkpoint manager runs a PASSIVE checkpoint (and TRUNCATE when the WAL is over the limit)."),
    optimizeInterval: duration("1h").describe("How often PRAGMA optimize runs (0 = only on open)."),
    readerNice: numeric(z.coerce.number().int().min(0).max(19))
      .default(0)
      .describe(
        "Nice value of the reader threads (Linux; 0 = the event loop's priority). Above 0 the loop (accepting, shedding, answering) runs before long scans sharing its core: 503 p99 at 4x load in bench:overload 34 ms at nice 10 against 47 ms at 0. Only where the server has its cores to itself: nice is machine-wide, and on a busy shared machine niced readers wait behind every other process (a 3 s query took 9 s at nice 10 beside another test suite).",
      ),
    readerCacheSize: size("64MB").describe(
      "Page cache of each reader thread's connection (PRAGMA cache_size): pages a scan has read stay in memory instead of costing a read() call each time; filled only as pages are read, and private to the connection (counts in the worker's RSS).",
    ),
    mmapSize: size("0").describe(
      "Bytes of the file the reader threads read through memory mapping (PRAGMA mmap_size; 0 = off). Off by default: every time the file grows SQLite remaps it under the process-wide mmap lock, and point reads measured half as fast with it on a file that takes writes; readerCacheSize gives scans the same gain without that.",
    ),
    inlineReadThresholdUs: nonNegativeInt(200).describe(
      "Microseconds: a read runs on the main thread, skipping the reader-thread round trip, once the p99 of its statement's recent runs on the reader threads is at most this (one slower inline run sends it back); 0 = always use reader threads.",
    ),
    inlineWriteThresholdUs: nonNegativeInt(200).describe(
      "Microseconds: a db.run() write runs on the main thread's own connection, whose page cache then survives the commit (so inline reads stay fast), once the p99 of its statement's recent runs on the writer thread is at most this, and only while the writer thread is idle; a lock held elsewhere sends it to the writer thread, one slower inline run sends its statement back there; 0 = always use the writer thread.",
    ),
    lockWaiters: positiveInt(256).describe(
      "Most writes per process that may wait while another process holds the SQLite write lock (their requests give their admission slots back meanwhile); further writes answer 503 DB_LOCKED at once. It counts every write queued for the writer, so keep it well above the usual write queue (64 concurrent clients queue ~50).",
    ),
  })
  .strict()
  .prefault({});

const db = z
  .object({
    url: z
      .string()
      .default("sqlite:./data/app.db")
      .describe(
        'Database to open for the app: "sqlite:./path.db", "sqlite::memory:" (workers = 1 only: each process would get its own) or "postgres://user@host/db".',
      ),
    statementTimeout: duration("0").describe("Cap on a single statement; 0 = only the request deadline and acquire timeout apply."),
    pool,
    sqlite,
  })
  .strict()
  .prefault({});

const routeRule = z
  .object({
    path: z.string().min(1).describe('Path prefix, e.g. "/api/export" or "/healthz".'),
    priority: z.enum(["critical", "normal", "sheddable"]).describe("critical = never shed; sheddable = shed first."),
  })
  .strict();

const admission = z
  .object({
    mode: z
      .enum(["adaptive", "fixed", "off"])
      .default("adaptive")
      .describe("adaptive learns the concurrency limit from latency; fixed uses limit; off admits everything."),
    limit: positiveInt(20).describe(
      "Initial concurrency limit per worker (the fixed limit in fixed mode); adaptive mode grows it while latency stays near baseline and lowers it toward twice the recent in-flight peak at light load.",
    ),
    minLimit: positiveInt(1).describe(
      "Adaptive limit never goes below this. 1 lets a CPU-bound worker under overload run one request at a time (lowest latency); raise it if handlers mostly wait on I/O.",
    ),
    maxLimit: positiveInt(1000).describe("Adaptive limit never goes above this."),
    queueSize: nonNegativeInt(128).describe("Requests that may wait for a slot; beyond this they are shed at once."),
    queueTarget: duration("20ms").describe("CoDel target: acceptable standing queue delay."),
    queueInterval: duration("100ms").describe("CoDel interval: how long the delay may stay above target before shedding."),
    eventLoopDelay: duration("200ms").describe(
      "Event-loop delay above which the guard's drop probability rises (PIE-style): sheddable routes are shed first, then normal ones (0 = off).",
    ),
    requestStart: bool(true).describe(
      "Count the time since the proxy's X-Request-Start header as queueing, so requests stuck in a saturated worker's sockets are shed at once (needs proxy and app clocks in step: same host or NTP).",
    ),
    eventLoopUtilization: numeric(z.coerce.number().min(0).max(1))
      .default(0)
      .describe(
        "Also shed above this event-loop utilisation (0 = off, the default: a loop can be 100 % busy and still answer fast; delay is the signal that it cannot).",
      ),
    routes: z.array(routeRule).default([]).describe("Route priorities; /healthz, /readyz and the admin endpoint are always critical."),
  })
  .strict()
  .prefault({});

const cache = z
  .object({
    url: z
      .string()
      .refine((v) => v === "memory:" || /^rediss?:\/\/./.test(v), { message: 'expected "memory:" or a redis:// URL such as "redis://127.0.0.1:6379/0"' })
      .default("memory:")
      .describe('Cache behind ctx.cache: "memory:" (one per worker process) or "redis://host:6379/0" (shared by every worker and instance).'),
    namespace: z.string().min(1).default("holdfast").describe("Prefix of every cache key (namespace:key); use one per app sharing a Redis database."),
    maxEntries: positiveInt(10000).describe("Memory cache: most entries per worker process; the least recently used goes first."),
    ttl: duration("60s").describe("How long a cached value stays fresh when a call gives no ttlMs."),
    staleTtl: duration("0").describe("How long past its TTL wrap() may still serve a value while one background refresh runs (0 = off)."),
    commandTimeout: duration("250ms").describe(
      "Longest wait for one Redis command (the request's remaining deadline may cut it shorter); past it the loader answers, uncached.",
    ),
    lockWait: duration("1s").describe("Redis: how long a miss waits for another worker's or instance's load of the same key before running the loader itself."),
  })
  .strict()
  .prefault({});

/** The whole configuration. */
export const configSchema = z
  .object({
    app: z.string().optional().describe("Path of the app module (default export: request listener, framework app or defineApp factory)."),
    host: z.string().min(1).default("127.0.0.1").describe("Address the app listens on; 0.0.0.0 for every interface."),
    port: port(3000).describe("Port the app listens on; every worker shares it."),
    backlog: positiveInt(511).describe("Listen backlog (capped by net.core.somaxconn); overflow shows as dropped SYNs, then 502s."),
    workers,
    timeouts,
    proxy,
    recycle,
    restart,
    admin,
    log,
    db,
    cache,
    admission,
  })
  .strict();

/** Config as written by the user (durations as strings allowed). */
export type ConfigInput = z.input<typeof configSchema>;
/** Config after parsing: durations in ms, sizes in bytes, every default filled. */
export type Config = z.output<typeof configSchema>;

/**
 * Every default, parsed once from the schema: the one place code outside config/ reads a default
 * from (pool, SQLite and cache options, the doctor's WAL threshold), so none is written twice.
 */
export const configDefaults: Config = deepFreeze(configSchema.parse({}));
