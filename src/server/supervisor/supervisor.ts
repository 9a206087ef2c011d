/**
 * The pre-fork supervisor (gunicorn's arbiter, for Node): its public face (start, reload,
 * replace, shutdown, a read-only view for the admin endpoint) and which step each worker
 * message sets off. The steps are functions of the state in supervisor-state.ts, one file
 * each, listed in ../index.ts. Its phases are in lifecycle.ts and drawn in docs/lifecycle.md.
 */
import { EventEmitter } from "node:events";
import { mkdirSync } from "node:fs";
import type { Config } from "../../config/index.js";
import { ERROR_CODES, type ErrorCode, HoldfastError } from "../../errors/index.js";
import type { Logger } from "../../telemetry/index.js";
import type { SupervisorPhase } from "../lifecycle.js";
import type { WorkerMessage } from "../messages.js";
import { startHeartbeatWatch } from "./heartbeat-watch.js";
import { reload } from "./rolling-reload.js";
import type { SupervisorMetrics } from "./supervisor-metrics.js";
import { type SupervisorEvent, SupervisorState, type WorkerRecord } from "./supervisor-state.js";
import { askToDrain, killAll, retire, shutdown } from "./worker-drain.js";
import { replace, type ReplaceReason } from "./worker-replace.js";
import { countCrash, onWorkerExit, restartSlot } from "./worker-restart.js";
import { forkWorker, setupWorkerProcess } from "./worker-spawn.js";

/** Options of {@link Supervisor}. */
export interface SupervisorOptions {
  config: Config;
  log: Logger;
  /** Re-reads the config on SIGHUP (file, env, flags); throws CONFIG_INVALID when it is bad. */
  reloadConfig?: (() => Promise<Config>) | undefined;
}

/** Runs and watches the workers of one holdfast instance; every event is also emitted as "event". */
export class Supervisor extends EventEmitter {
  readonly #s: SupervisorState;

  constructor(o: SupervisorOptions) {
    super();
    this.#s = new SupervisorState({
      ...o,
      hooks: {
        onEvent: (e) => this.emit("event", e),
        onWorkerMessage: (rec, m) => this.#onMessage(rec, m),
        onWorkerExit: (rec, code, signal) => onWorkerExit(this.#s, rec, code, signal),
      },
    });
  }

  // The read-only view the admin endpoint, the dashboard and the terminal notices use.
  /** Current config; a SIGHUP reload may replace it (except listen and admin settings). */
  get config(): Config {
    return this.#s.config;
  }
  get log(): Logger {
    return this.#s.log;
  }
  get metrics(): SupervisorMetrics {
    return this.#s.metrics;
  }
  get startedAt(): number {
    return this.#s.startedAt;
  }
  get phase(): SupervisorPhase {
    return this.#s.phase;
  }
  /** Current worker per slot (1..N); during a replacement the old one is in `retiring`. */
  get slots(): ReadonlyMap<number, WorkerRecord> {
    return this.#s.slots;
  }
  get retiring(): ReadonlySet<WorkerRecord> {
    return this.#s.retiring;
  }
  get recent(): readonly SupervisorEvent[] {
    return this.#s.recent;
  }
  get counters(): Readonly<SupervisorState["counters"]> {
    return this.#s.counters;
  }
  get restartsBySlot(): ReadonlyMap<number, number> {
    return this.#s.restartsBySlot;
  }
  get listenPort(): number {
    return this.#s.listenPort;
  }

  /** Resolves with the exit code once the supervisor has stopped. */
  get stopped(): Promise<number> {
    return this.#s.stopped;
  }

  /** Forks every worker and waits until all are listening; throws APP_LOAD_FAILED when the app cannot start. */
  async start(): Promise<void> {
    const s = this.#s;
    mkdirSync(s.stallDir, { recursive: true });
    setupWorkerProcess(s.config);
    const recs = Array.from({ length: s.config.workers }, (_, i) => forkWorker(s, i + 1));
    const first = await Promise.all(recs.map((r) => s.waitReady(r)));
    const at = first.findIndex((r) => r !== true);
    if (at >= 0) {
      killAll(s);
      // The worker's own code (PORT_IN_USE, APP_LOAD_FAILED, ...) and stack, so the CLI can say what to do.
      const why = s.startFailures.get(recs[at] as WorkerRecord);
      const code = why && why.code in ERROR_CODES ? (why.code as ErrorCode) : "APP_LOAD_FAILED";
      throw new HoldfastError(code, first[at] as string, { details: why?.stack ? { stack: why.stack } : undefined });
    }
    s.phase = "running";
    startHeartbeatWatch(s);
    s.emitEvent("info", "supervisor.ready", { workers: s.config.workers, port: s.listenPort }, `holdfast ready: ${s.config.workers} workers`);
  }

  /** Records, logs and streams a supervisor event. */
  emitEvent(level: "info" | "warn" | "error", event: string, fields: Record<string, unknown>, msg: string): void {
    this.#s.emitEvent(level, event, fields, msg);
  }

  /**
   * Replaces the worker in `slot`: fork the new one, wait until it listens, then drain the
   * old one. Replacements run one at a time, so never more than one worker recycles at once.
   */
  replace(slot: number, reason: ReplaceReason, fields: Record<string, unknown> = {}): Promise<void> {
    return replace(this.#s, slot, reason, fields);
  }

  /**
   * Rolling reload (SIGHUP): re-read the config (a bad one cancels the reload and the old
   * workers keep serving), then replace every worker one by one, none dropped, then grow or
   * shrink to the new worker count. Listen and admin settings need a restart.
   */
  reload(): Promise<void> {
    return reload(this.#s);
  }

  /** Graceful shutdown: readiness false, workers drain (up to timeouts.graceful), then exit. */
  shutdown(reason: string, exitCode = 0): Promise<void> {
    return shutdown(this.#s, reason, exitCode);
  }

  /** What each message from a worker sets off. */
  #onMessage(rec: WorkerRecord, m: WorkerMessage): void {
    const s = this.#s;
    switch (m.hf) {
      case "ready":
        if (s.phase === "stopping" || s.phase === "stopped") {
          // Forked by a replacement that shutdown overtook: it has nothing to serve.
          askToDrain(rec, "shutdown");
          s.settleReady(rec, "shutting down");
          break;
        }
        rec.phase = "ready";
        rec.readyAt = Date.now();
        rec.lastHeartbeat = Date.now();
        s.listenPort = m.port;
        s.settleReady(rec, true);
        break;
      case "heartbeat":
        rec.lastHeartbeat = Date.now();
        rec.stats = m.stats;
        if (m.metrics) rec.metrics = m.metrics;
        break;
      case "start-failed":
        s.startFailures.set(rec, { code: m.code, stack: m.stack });
        s.settleReady(rec, m.message);
        break;
      case "fatal":
        // The worker hit an uncaught exception and is draining itself: start its replacement now.
        s.emitEvent(
          "error",
          "worker.fatal",
          { slot: rec.slot, workerPid: rec.pid, error: m.message },
          `worker ${rec.slot} (pid ${rec.pid}) crashed on an uncaught exception; replacing it`,
        );
        countCrash(s);
        retire(s, rec, "fatal");
        if (s.phase === "running") restartSlot(s, rec, null);
        break;
      case "recycle":
        void replace(s, rec.slot, "recycle", { reason: m.reason, requests: m.requests });
        break;
      case "drained":
        s.emitEvent(
          "info",
          "worker.drained",
          { slot: rec.slot, workerPid: rec.pid, idleSockets: m.idleSockets },
          `worker ${rec.slot} (pid ${rec.pid}) has nothing in flight; ${m.idleSockets} idle keep-alive sockets left for their clients to close`,
        );
        rec.onQuiet?.();
        rec.onQuiet = undefined;
        break;
    }
  }
}
