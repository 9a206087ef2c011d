/**
 * The pre-fork supervisor (gunicorn's arbiter, for Node): forks the workers through
 * node:cluster so they share the listen socket, watches their heartbeats, replaces the
 * stuck and the crashed (at once when they had got ready; with per-slot backoff when they die
 * before that; crash-loop detection, see restart-policy.ts), recycles on request count
 * or memory one at a time, rolls them on SIGHUP and drains them on SIGTERM/SIGINT.
 * Its phases are listed in lifecycle.ts and drawn in docs/lifecycle.md.
 */
import cluster, { type Worker } from "node:cluster";
import { EventEmitter } from "node:events";
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Config } from "../../config/index.js";
import { ERROR_CODES, type ErrorCode, HoldfastError } from "../../errors/index.js";
import { resolveOptional } from "../../optional/index.js";
import type { Logger, MetricsSnapshot } from "../../telemetry/index.js";
import { ConnectionRescue } from "./connection-rescue.js";
import { idleSocketsBoundMs } from "../drain-policy.js";
import type { SupervisorPhase, WorkerPhase } from "../lifecycle.js";
import { isWorkerMessage, type SupervisorMessage, type WorkerMessage, type WorkerStats } from "../messages.js";
import { RestartPolicy } from "./restart-policy.js";
import type { StallReport } from "../worker/stall-watchdog.js";
import { SupervisorMetrics } from "./supervisor-metrics.js";

/** One worker process as the supervisor sees it. */
export interface WorkerRecord {
  slot: number;
  worker: Worker;
  pid: number;
  phase: WorkerPhase;
  startedAt: number;
  /** When it reported ready (ms); undefined before. */
  readyAt?: number | undefined;
  lastHeartbeat: number;
  stats: WorkerStats | undefined;
  metrics: MetricsSnapshot | undefined;
  drainReason?: SupervisorMessage["reason"] | undefined;
  /** Set when the supervisor itself killed the worker (timeout) so the exit is not a crash. */
  killedBy?: "timeout" | undefined;
  /** Called once when the draining worker reports nothing in flight (a rolling reload moves on then). */
  onQuiet?: (() => void) | undefined;
}

/** A supervisor event, as logged and streamed on /events. */
export interface SupervisorEvent {
  time: string;
  event: string;
  [field: string]: unknown;
}

/** Options of {@link Supervisor}. */
export interface SupervisorOptions {
  config: Config;
  log: Logger;
  /** Re-reads the config on SIGHUP (file, env, flags); throws CONFIG_INVALID when it is bad. */
  reloadConfig?: (() => Promise<Config>) | undefined;
}

const WORKER_START_TIMEOUT_MS = 60_000;
/** How long a stuck last worker is kept (spinning, listen socket open) while its replacement starts. */
const STUCK_KILL_WAIT_MAX_MS = 10_000;

/** Runs and watches the workers of one holdfast instance. */
export class Supervisor extends EventEmitter {
  /** Current config; a SIGHUP reload may replace it (except listen and admin settings). */
  config: Config;
  readonly log: Logger;
  readonly metrics = new SupervisorMetrics();
  readonly startedAt = Date.now();
  phase: SupervisorPhase = "starting";
  /** Current worker per slot (1..N); during a replacement the old one is in `retiring`. */
  readonly slots = new Map<number, WorkerRecord>();
  readonly retiring = new Set<WorkerRecord>();
  readonly recent: SupervisorEvent[] = [];
  readonly counters = { restarts: 0, crashes: 0, timeouts: 0, recycles: 0, reloads: 0 };
  restartsBySlot = new Map<number, number>();
  listenPort = 0;
  #policy: RestartPolicy;
  readonly #rescue = new ConnectionRescue((exclude) => this.#anotherReadyWorker(exclude));
  readonly #reloadConfig: (() => Promise<Config>) | undefined;
  #reloading = false;
  #stallDir: string;
  #watch: NodeJS.Timeout | undefined;
  #replacing: Promise<void> = Promise.resolve();
  #exitCode = 0;
  #stopped: Promise<number>;
  #resolveStopped!: (code: number) => void;

  constructor(o: SupervisorOptions) {
    super();
    this.config = o.config;
    this.log = o.log;
    this.#reloadConfig = o.reloadConfig;
    this.#policy = new RestartPolicy(o.config.restart);
    this.#stallDir = join(tmpdir(), `holdfast-${process.pid}`);
    this.#stopped = new Promise((r) => {
      this.#resolveStopped = r;
    });
  }

  /** Resolves with the exit code once the supervisor has stopped. */
  get stopped(): Promise<number> {
    return this.#stopped;
  }

  /** Forks every worker and waits until all are listening; throws APP_LOAD_FAILED when the app cannot start. */
  async start(): Promise<void> {
    mkdirSync(this.#stallDir, { recursive: true });
    const here = fileURLToPath(import.meta.url);
    const ext = here.endsWith(".ts") ? ".ts" : ".js";
    const execArgv = [...process.execArgv.filter((a) => !a.startsWith("--inspect"))];
    const appIsTs = /\.(c|m)?tsx?$/.test(this.config.app ?? "");
    if ((ext === ".ts" || appIsTs) && !execArgv.some((a, i) => a === "tsx" || (execArgv[i - 1] === "--import" && a.includes("tsx")))) {
      execArgv.push("--import", resolveOptional("tsx", appIsTs ? `The app ${this.config.app} is TypeScript` : "holdfast is running from its TypeScript source"));
    }
    // args: [] — by default cluster hands workers the supervisor's own arguments, and `--db postgres://u:pw@…`
    // would then show in every worker's command line (ps, /proc/<pid>/cmdline). Workers read HOLDFAST_CONFIG.
    cluster.setupPrimary({ exec: fileURLToPath(new URL(`../worker/worker-main${ext}`, import.meta.url)), execArgv, args: [], silent: false });
    const recs = Array.from({ length: this.config.workers }, (_, i) => this.#fork(i + 1));
    const first = await Promise.all(recs.map((r) => this.#waitReady(r)));
    const at = first.findIndex((r) => r !== true);
    if (at >= 0) {
      await this.#killAll();
      // The worker's own code (PORT_IN_USE, APP_LOAD_FAILED, ...) and stack, so the CLI can say what to do.
      const why = this.#startFailures.get(recs[at] as WorkerRecord);
      const code = why && why.code in ERROR_CODES ? (why.code as ErrorCode) : "APP_LOAD_FAILED";
      throw new HoldfastError(code, first[at] as string, { details: why?.stack ? { stack: why.stack } : undefined });
    }
    this.phase = "running";
    this.#watch = setInterval(() => this.#checkWorkers(), 250);
    this.emitEvent("info", "supervisor.ready", { workers: this.config.workers, port: this.listenPort }, `holdfast ready: ${this.config.workers} workers`);
  }

  /** Records, logs and streams a supervisor event. */
  emitEvent(level: "info" | "warn" | "error", event: string, fields: Record<string, unknown>, msg: string): void {
    const e: SupervisorEvent = { time: new Date().toISOString(), event, ...fields };
    this.recent.push(e);
    if (this.recent.length > 200) this.recent.shift();
    this.log[level]({ event, ...fields }, msg);
    this.emit("event", e);
  }

  #fork(slot: number): WorkerRecord {
    const worker = cluster.fork({
      // Workers never serve the admin endpoint: the token stays in the supervisor.
      HOLDFAST_CONFIG: JSON.stringify({ ...this.config, port: this.#portForNextWorker(), admin: { ...this.config.admin, token: undefined } }),
      HOLDFAST_WORKER_ID: String(slot),
      HOLDFAST_WORKERS: String(this.config.workers),
      HOLDFAST_STALL_FILE: join(this.#stallDir, `stall-${slot}-${Date.now()}.json`),
      // An undefined value removes the inherited variable: the token must not reach app code either.
      HOLDFAST_ADMIN_TOKEN: undefined,
    });
    const pid = worker.process.pid ?? 0;
    this.#rescue.watch(worker, ({ handedOver, closed }) =>
      this.emitEvent(
        "warn",
        "worker.connections.rescued",
        { slot, workerPid: pid, rescued: handedOver, closed },
        `worker ${slot} (pid ${pid}) died holding ${handedOver + closed} connection(s) it had not yet taken: ${handedOver} handed to another worker, ${closed} closed (no worker was ready) so the client or proxy can retry`,
      ),
    );
    const rec: WorkerRecord = {
      slot,
      worker,
      pid: worker.process.pid ?? 0,
      phase: "starting",
      startedAt: Date.now(),
      lastHeartbeat: Date.now(),
      stats: undefined,
      metrics: undefined,
    };
    worker.on("message", (m: unknown) => {
      if (isWorkerMessage(m)) this.#onMessage(rec, m);
    });
    worker.on("exit", (code, signal) => this.#onExit(rec, code, signal));
    const prev = this.slots.get(slot);
    if (!prev || prev.phase === "exited") this.slots.set(slot, rec);
    return rec;
  }

  /** The port value live workers were given (node:cluster shares one socket per value). */
  #sharedPortValue: number | undefined;

  /**
   * With port 0 the first worker picks the port. While any worker lives, new ones ask for the
   * same value (0), so node:cluster hands them the same socket; when none is left, the next one
   * asks for the port the service had, so it does not move to a new one.
   */
  #portForNextWorker(): number {
    const anyAlive = [...this.slots.values(), ...this.retiring, ...this.#readyWaiters.keys()].some((r) => r.phase !== "exited");
    if (!anyAlive || this.#sharedPortValue === undefined) this.#sharedPortValue = this.listenPort || this.config.port;
    return this.#sharedPortValue;
  }

  #readyWaiters = new Map<WorkerRecord, (v: true | string) => void>();
  /** Why a worker reported it could not start (read once, by start()). */
  #startFailures = new WeakMap<WorkerRecord, { code: string; stack: string | undefined }>();

  /** Resolves true when the worker is listening, or a message saying why it could not start. */
  #waitReady(rec: WorkerRecord): Promise<true | string> {
    if (rec.phase === "ready") return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.#readyWaiters.delete(rec);
        resolve(`worker ${rec.slot} (pid ${rec.pid}) did not start listening within ${WORKER_START_TIMEOUT_MS / 1000} s`);
      }, WORKER_START_TIMEOUT_MS);
      this.#readyWaiters.set(rec, (v) => {
        clearTimeout(t);
        this.#readyWaiters.delete(rec);
        resolve(v);
      });
    });
  }

  #onMessage(rec: WorkerRecord, m: WorkerMessage): void {
    switch (m.hf) {
      case "ready":
        if (this.phase === "stopping" || this.phase === "stopped") {
          // Forked by a replacement that shutdown overtook: it has nothing to serve.
          this.#askToDrain(rec, "shutdown");
          this.#readyWaiters.get(rec)?.("shutting down");
          break;
        }
        rec.phase = "ready";
        rec.readyAt = Date.now();
        rec.lastHeartbeat = Date.now();
        this.listenPort = m.port;
        this.#readyWaiters.get(rec)?.(true);
        break;
      case "heartbeat":
        rec.lastHeartbeat = Date.now();
        rec.stats = m.stats;
        if (m.metrics) rec.metrics = m.metrics;
        break;
      case "start-failed":
        this.#startFailures.set(rec, { code: m.code, stack: m.stack });
        this.#readyWaiters.get(rec)?.(m.message);
        break;
      case "fatal":
        // The worker hit an uncaught exception and is draining itself: start its replacement now.
        this.emitEvent("error", "worker.fatal", { slot: rec.slot, workerPid: rec.pid, error: m.message }, `worker ${rec.slot} (pid ${rec.pid}) crashed on an uncaught exception; replacing it`);
        this.counters.crashes++;
        this.metrics.crashes.inc();
        this.#retire(rec, "fatal");
        if (this.phase === "running") this.#restartSlot(rec, null);
        break;
      case "recycle":
        void this.replace(rec.slot, "recycle", { reason: m.reason, requests: m.requests });
        break;
      case "drained":
        this.emitEvent("info", "worker.drained", { slot: rec.slot, workerPid: rec.pid, idleSockets: m.idleSockets }, `worker ${rec.slot} (pid ${rec.pid}) has nothing in flight; ${m.idleSockets} idle keep-alive sockets left for their clients to close`);
        rec.onQuiet?.();
        rec.onQuiet = undefined;
        break;
    }
  }

  #retire(rec: WorkerRecord, reason: SupervisorMessage["reason"]): void {
    if (rec.phase === "draining" || rec.phase === "exited") return;
    this.#askToDrain(rec, reason);
    this.retiring.add(rec);
    // A worker that does not finish draining in time is killed.
    const limit = idleSocketsBoundMs(this.config, reason) + 5000;
    setTimeout(() => {
      if (rec.phase !== "exited") {
        this.emitEvent("warn", "worker.kill", { slot: rec.slot, workerPid: rec.pid, reason: "drain-timeout" }, `worker ${rec.slot} (pid ${rec.pid}) did not exit after draining; killing it`);
        rec.worker.process.kill("SIGKILL");
      }
    }, limit).unref();
  }

  /** Marks the worker draining and tells it so (a worker whose IPC channel is gone gets SIGTERM). */
  #askToDrain(rec: WorkerRecord, reason: SupervisorMessage["reason"]): void {
    rec.phase = "draining";
    rec.drainReason = reason;
    if (rec.worker.isConnected()) rec.worker.send({ hf: "drain", reason } satisfies SupervisorMessage);
    else rec.worker.process.kill("SIGTERM");
  }

  #forkReplacement(slot: number): WorkerRecord {
    const rec = this.#fork(slot);
    this.slots.set(slot, rec);
    this.restartsBySlot.set(slot, (this.restartsBySlot.get(slot) ?? 0) + 1);
    this.counters.restarts++;
    this.metrics.restarts.inc();
    return rec;
  }

  /** A ready worker other than `exclude`, picked at random, to take over a dead worker's connections. */
  #anotherReadyWorker(exclude: Worker): Worker | undefined {
    const live = [...this.slots.values()].filter((r) => r.phase === "ready" && r.worker !== exclude && r.worker.isConnected());
    return live[Math.floor(Math.random() * live.length)]?.worker;
  }

  #onExit(rec: WorkerRecord, code: number | null, signal: string | null): void {
    const wasPhase = rec.phase;
    rec.phase = "exited";
    this.metrics.retire(rec);
    this.retiring.delete(rec);
    this.#readyWaiters.get(rec)?.(`worker ${rec.slot} (pid ${rec.pid}) exited (code ${code}, signal ${signal}) before it was ready`);
    const intentional = wasPhase === "draining" || this.phase === "stopping" || this.phase === "stopped";
    const reason = rec.killedBy ?? (intentional ? (rec.drainReason ?? "shutdown") : "crash");
    const uptimeS = Math.round((Date.now() - rec.startedAt) / 1000);
    const fields = { slot: rec.slot, workerPid: rec.pid, code, signal, reason, uptimeS };
    if (this.phase !== "running" || (intentional && !rec.killedBy)) {
      this.emitEvent(intentional && !rec.killedBy ? "info" : "warn", "worker.exit", fields, `worker ${rec.slot} (pid ${rec.pid}) exited: ${reason}`);
      this.#awaitingExit.delete(rec);
      if (this.phase === "stopping" && this.#awaitingExit.size === 0) this.#allExited?.();
      return;
    }
    if (this.slots.get(rec.slot) !== rec) {
      // Already replaced (timeout path).
      this.emitEvent("warn", "worker.exit", fields, `worker ${rec.slot} (pid ${rec.pid}) exited: ${reason}`);
      return;
    }
    this.counters.crashes++;
    this.metrics.crashes.inc();
    this.#restartSlot(rec, signal, fields);
  }

  /**
   * Replaces a worker that died unasked (crash, kill -9, OOM killer, uncaught exception): at
   * once when it had got ready, after its slot's backoff when it died before, and not at all
   * when young deaths add up to a crash loop. Logs worker.exit when `exitFields` is given.
   */
  #restartSlot(rec: WorkerRecord, signal: string | null, exitFields?: Record<string, unknown>): void {
    const d = this.#policy.onDeath({ slot: rec.slot, at: Date.now(), readyAt: rec.readyAt, signal });
    if (exitFields) {
      const when = d.action === "give-up" ? "not restarted (crash loop)" : d.delayMs === 0 ? "replaced at once" : `restarting in ${d.delayMs} ms (it died before it was ready; the slot backs off)`;
      this.emitEvent(
        "warn",
        "worker.exit",
        { ...exitFields, countsTowardCrashLoop: d.counted, restartInMs: d.action === "give-up" ? null : d.delayMs },
        `worker ${rec.slot} (pid ${rec.pid}) exited: ${String(exitFields.reason)}; ${when}`,
      );
    }
    if (d.action === "give-up") {
      const r = this.config.restart;
      const msg = `Crash loop: ${d.recentEarlyDeaths} worker crashes within ${r.crashLoopWindow / 1000} s (restart.crashLoopMax = ${r.crashLoopMax}), each before the worker was ready or within restart.minUptime (${r.minUptime / 1000} s) of it: the app cannot start or cannot stay up. holdfast stops instead of restarting in a loop. Read the worker.exit and worker.uncaught events in ${this.config.log.file} for the cause, fix it, and start again.`;
      this.emitEvent("error", "worker.crashloop", { crashes: d.recentEarlyDeaths, windowMs: r.crashLoopWindow }, msg);
      process.stderr.write(`holdfast: ${msg}\n`);
      void this.shutdown("crashloop", 1);
      return;
    }
    const fork = () => {
      if (this.phase === "running" && this.slots.get(rec.slot) === rec) this.#forkReplacement(rec.slot);
    };
    if (d.delayMs === 0) fork();
    else setTimeout(fork, d.delayMs).unref();
  }

  #checkWorkers(): void {
    const now = Date.now();
    const hb = this.config.timeouts.heartbeat;
    for (const rec of this.slots.values()) {
      if (rec.phase !== "ready") continue;
      if (hb > 0 && now - rec.lastHeartbeat > hb) {
        this.#onTimeout(rec, now - rec.lastHeartbeat);
        continue;
      }
      const maxRss = this.config.recycle.maxRss;
      if (maxRss > 0 && rec.stats && rec.stats.rssBytes > maxRss) {
        void this.replace(rec.slot, "recycle", { reason: "maxRss", rssBytes: rec.stats.rssBytes, maxRss });
      }
    }
  }

  #onTimeout(rec: WorkerRecord, ageMs: number): void {
    rec.phase = "draining";
    rec.killedBy = "timeout";
    // A stuck worker reports nothing more: its last heartbeat is final, so its counts move to
    // the carried totals now rather than vanish from /metrics until the process is gone.
    this.metrics.retire(rec);
    this.counters.timeouts++;
    this.metrics.timeouts.inc();
    const stall = this.#readStall(rec);
    const inflight = stall?.inflight ?? rec.stats?.oldest ?? [];
    const top = inflight[0];
    this.emitEvent(
      "error",
      "worker.timeout",
      { slot: rec.slot, workerPid: rec.pid, heartbeatAgeMs: ageMs, heartbeatTimeoutMs: this.config.timeouts.heartbeat, inflight, stack: stall?.stack },
      `worker ${rec.slot} (pid ${rec.pid}) missed its heartbeat for ${Math.round(ageMs / 100) / 10} s (event loop stuck)${top ? ` while handling ${top.method} ${top.path} (${top.reqId}, ${Math.round(top.ageMs / 1000)} s old)` : ""}; killing and replacing it`,
    );
    rec.worker.process.kill("SIGTERM");
    // Retiring, so a shutdown that starts meanwhile waits for it (and kills it at the hard limit).
    this.retiring.add(rec);
    const fresh = this.phase === "running" ? this.#forkReplacement(rec.slot) : undefined;
    // A stuck event loop never runs its SIGTERM handler: follow up with SIGKILL after a second.
    // When it is the last worker listening, wait for its replacement first (up to a bound):
    // node:cluster closes the listen socket with its last worker, and connections would be
    // refused until the replacement listens; kept open, they wait and the replacement serves them.
    const kill = () => {
      if (rec.phase !== "exited") rec.worker.process.kill("SIGKILL");
    };
    const othersListening = [...this.slots.values()].some((r) => r !== fresh && r.phase === "ready");
    const second = new Promise((r) => setTimeout(r, 1000).unref());
    if (othersListening || !fresh) void second.then(kill);
    else {
      const bound = new Promise((r) => setTimeout(r, STUCK_KILL_WAIT_MAX_MS).unref());
      void Promise.all([second, Promise.race([this.#waitReady(fresh), bound])]).then(kill);
    }
  }

  #readStall(rec: WorkerRecord): StallReport | undefined {
    try {
      for (const name of readdirSync(this.#stallDir)) {
        if (!name.startsWith(`stall-${rec.slot}-`) || !name.endsWith(".json")) continue;
        const report = JSON.parse(readFileSync(join(this.#stallDir, name), "utf8")) as StallReport;
        if (report.pid === rec.pid) return report;
      }
    } catch {
      // No report (the watchdog thread may itself be starved); the heartbeat snapshot is used instead.
    }
    return undefined;
  }

  /**
   * Replaces the worker in `slot`: fork the new one, wait until it listens, then drain the
   * old one. Replacements run one at a time, so never more than one worker recycles at once.
   */
  replace(slot: number, reason: "reload" | "recycle", fields: Record<string, unknown> = {}): Promise<void> {
    const run = async () => {
      const old = this.slots.get(slot);
      if (old?.phase !== "ready" || this.phase !== "running") return;
      if (reason === "recycle") {
        this.counters.recycles++;
        this.metrics.recycles.inc();
        this.emitEvent("info", "worker.recycle", { slot, workerPid: old.pid, ...fields }, `recycling worker ${slot} (pid ${old.pid}): ${String(fields.reason ?? reason)}`);
      }
      const fresh = this.#fork(slot);
      const ok = await this.#waitReady(fresh);
      if (ok !== true) {
        if (this.phase !== "running") return; // shutdown overtook the replacement
        this.emitEvent("error", "worker.replace.failed", { slot, reason, error: ok }, `new worker for slot ${slot} did not start (${ok}); keeping the old one`);
        fresh.worker.process.kill("SIGKILL");
        throw new Error(ok);
      }
      this.slots.set(slot, fresh);
      this.restartsBySlot.set(slot, (this.restartsBySlot.get(slot) ?? 0) + 1);
      // Move on once the old worker has nothing in flight: its idle keep-alive sockets may stay open
      // until the proxy closes them (drain-policy.ts), and waiting for that would stretch a reload by minutes.
      const quietOrGone = new Promise<void>((r) => {
        if (old.phase === "exited") return r();
        old.onQuiet = r;
        old.worker.once("exit", () => r());
      });
      this.#retire(old, reason);
      await quietOrGone;
    };
    const p = this.#replacing.then(run, run);
    this.#replacing = p.catch(() => undefined);
    return p;
  }

  /**
   * Rolling reload (SIGHUP): re-read the config (a bad one cancels the reload and the old
   * workers keep serving), then replace every worker one by one, none dropped, then grow or
   * shrink to the new worker count. Listen and admin settings need a restart.
   */
  async reload(): Promise<void> {
    if (this.phase !== "running") return;
    if (this.#reloading) {
      this.emitEvent("warn", "reload", { phase: "ignored" }, "SIGHUP during a reload: ignored; send it again when the reload has finished");
      return;
    }
    this.#reloading = true;
    try {
      if (this.#reloadConfig) {
        let next: Config;
        try {
          next = await this.#reloadConfig();
        } catch (err) {
          this.emitEvent("error", "reload", { phase: "failed", error: (err as Error).message }, `reload cancelled, the config is invalid; the current workers keep serving with the old config:\n${(err as Error).message}`);
          return;
        }
        const fixed = ["host", "port", "backlog", "admin", "log"] as const;
        const ignored = fixed.filter((k) => JSON.stringify(next[k]) !== JSON.stringify(this.config[k]));
        if (ignored.length) {
          this.emitEvent("warn", "reload", { phase: "restart-needed", keys: ignored }, `changed settings need a restart, not a reload: ${ignored.join(", ")}; they keep their current values`);
        }
        this.config = { ...next, app: this.config.app, ...Object.fromEntries(fixed.map((k) => [k, this.config[k]])) } as Config;
      }
      this.counters.reloads++;
      this.metrics.reloads.inc();
      this.emitEvent("info", "reload", { phase: "start", workers: this.slots.size }, "rolling reload started");
      const started = Date.now();
      try {
        for (const slot of [...this.slots.keys()].sort((a, b) => a - b)) {
          if (slot <= this.config.workers) await this.replace(slot, "reload");
        }
        await this.#resize();
        this.emitEvent("info", "reload", { phase: "done", durationMs: Date.now() - started, workers: this.config.workers }, `rolling reload finished in ${Date.now() - started} ms`);
      } catch (err) {
        this.emitEvent("error", "reload", { phase: "failed", error: (err as Error).message }, `rolling reload stopped: ${(err as Error).message}; the remaining old workers keep serving`);
      }
    } finally {
      this.#reloading = false;
    }
  }

  /** Forks or retires workers so that slots 1..config.workers are filled. */
  async #resize(): Promise<void> {
    for (const [slot, rec] of [...this.slots]) {
      if (slot > this.config.workers) {
        this.slots.delete(slot);
        this.#retire(rec, "reload");
      }
    }
    const added: WorkerRecord[] = [];
    for (let slot = 1; slot <= this.config.workers; slot++) if (!this.slots.has(slot)) added.push(this.#fork(slot));
    const results = await Promise.all(added.map((r) => this.#waitReady(r)));
    const failed = results.find((r): r is string => r !== true);
    if (failed) throw new Error(failed);
  }

  #allExited: (() => void) | undefined;
  readonly #awaitingExit = new Set<WorkerRecord>();

  /** Graceful shutdown: readiness false, workers drain (up to timeouts.graceful), then exit. */
  async shutdown(reason: string, exitCode = 0): Promise<void> {
    if (this.phase === "stopping" || this.phase === "stopped") return;
    this.#exitCode = exitCode;
    this.phase = "stopping";
    if (this.#watch) clearInterval(this.#watch);
    const live = [...new Set([...this.slots.values(), ...this.retiring, ...this.#starting()])].filter((r) => r.phase !== "exited");
    for (const r of live) this.#awaitingExit.add(r);
    this.emitEvent("info", "shutdown", { phase: "start", reason, workers: live.length, gracefulMs: this.config.timeouts.graceful }, `shutting down (${reason}): draining ${live.length} workers`);
    const allExited = new Promise<void>((resolve) => {
      this.#allExited = resolve;
      if (live.length === 0) resolve();
    });
    for (const rec of live) {
      if (rec.phase !== "draining") this.#askToDrain(rec, "shutdown");
      // A worker still draining after a reload waits for its clients to close idle sockets: tell it
      // the instance is stopping, so it closes them within timeouts.graceful like the others.
      else if (rec.worker.isConnected()) rec.worker.send({ hf: "drain", reason: "shutdown" } satisfies SupervisorMessage);
    }
    const hard = setTimeout(() => this.#killAll(), this.config.timeouts.graceful + 2000);
    await allExited;
    clearTimeout(hard);
    this.phase = "stopped";
    rmSync(this.#stallDir, { recursive: true, force: true });
    this.emitEvent("info", "shutdown", { phase: "done", exitCode: this.#exitCode }, "all workers stopped");
    this.#resolveStopped(this.#exitCode);
  }

  /** Workers forked for a replacement that are not in a slot yet. */
  #starting(): WorkerRecord[] {
    return [...this.#readyWaiters.keys()].filter((r) => r.phase === "starting" && ![...this.slots.values()].includes(r));
  }

  /** The hard limit of a shutdown: every worker it still waits for is killed (a replacement still starting included). */
  async #killAll(): Promise<void> {
    for (const rec of new Set([...this.slots.values(), ...this.retiring, ...this.#awaitingExit])) {
      if (rec.phase === "exited") continue;
      this.emitEvent("warn", "worker.kill", { slot: rec.slot, workerPid: rec.pid, reason: "shutdown-timeout" }, `worker ${rec.slot} (pid ${rec.pid}) had not exited ${this.config.timeouts.graceful / 1000} s + 2 s after shutdown began; killing it`);
      rec.worker.process.kill("SIGKILL");
    }
  }
}
