/**
 * Everything the supervisor knows, declared in one place: the worker table (one record per
 * worker process, by slot), its phase and counters, the bookkeeping its steps share (ready
 * waiters, the replacement queue, the shutdown's wait list), and emitEvent, the one path by
 * which every supervisor event is recorded for /status, logged and streamed on /events.
 * The steps (worker-spawn, worker-drain, worker-restart, heartbeat-watch, worker-replace,
 * rolling-reload) are functions of this state, so none of them imports its caller; what a
 * lower step must hand up (a worker's messages and exit, each event) goes through `hooks`.
 */
import type { Worker } from "node:cluster";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Config } from "../../config/index.js";
import type { Logger, MetricsSnapshot } from "../../telemetry/index.js";
import type { SupervisorPhase, WorkerPhase } from "../lifecycle.js";
import type { SupervisorMessage, WorkerMessage, WorkerStats } from "../messages.js";
import { ConnectionRescue } from "./connection-rescue.js";
import { RestartPolicy } from "./restart-policy.js";
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

/** A worker's start-up answer: true once it listens, else why it could not start. */
export type ReadyResult = true | string;

/** Where the state hands what it cannot handle itself: set once by the Supervisor. */
export interface SupervisorHooks {
  /** Every event, after it is recorded and logged (the Supervisor re-emits it as "event"). */
  onEvent(e: SupervisorEvent): void;
  /** A holdfast IPC message from a worker. */
  onWorkerMessage(rec: WorkerRecord, m: WorkerMessage): void;
  /** A worker process has exited. */
  onWorkerExit(rec: WorkerRecord, code: number | null, signal: string | null): void;
}

/** How many events /status and the dashboard can look back on. */
const RECENT_EVENTS = 200;
/** How long a forked worker may take to load the app and listen. */
const WORKER_START_TIMEOUT_MS = 60_000;

/** The supervisor's state and its event path. */
export class SupervisorState {
  // What the admin endpoint, the dashboard and the terminal notices read (through Supervisor).
  /** Current config; a SIGHUP reload may replace it (except listen and admin settings). */
  config: Config;
  readonly log: Logger;
  readonly metrics = new SupervisorMetrics();
  readonly startedAt = Date.now();
  phase: SupervisorPhase = "starting";
  /** Current worker per slot (1..N); during a replacement the old one is in `retiring`. */
  readonly slots = new Map<number, WorkerRecord>();
  /** Workers draining (or killed) after a replacement took their slot, until they exit. */
  readonly retiring = new Set<WorkerRecord>();
  readonly recent: SupervisorEvent[] = [];
  readonly counters = { restarts: 0, crashes: 0, timeouts: 0, recycles: 0, reloads: 0 };
  readonly restartsBySlot = new Map<number, number>();
  listenPort = 0;

  // What the steps share.
  readonly hooks: SupervisorHooks;
  /** Re-reads the config on SIGHUP (file, env, flags); throws CONFIG_INVALID when it is bad. */
  readonly reloadConfig: (() => Promise<Config>) | undefined;
  readonly restartPolicy: RestartPolicy;
  readonly rescue = new ConnectionRescue((exclude) => this.anotherReadyWorker(exclude));
  /** Where each worker's stall watchdog leaves its report (read when the worker times out). */
  readonly stallDir = join(tmpdir(), `holdfast-${process.pid}`);
  /** The heartbeat and memory check, every 250 ms while running. */
  watch: NodeJS.Timeout | undefined;
  /** The port value live workers were given (node:cluster shares one socket per value). */
  sharedPortValue: number | undefined;
  /** Workers forked and not yet ready, each with the resolver of its start-up. */
  readonly readyWaiters = new Map<WorkerRecord, (v: ReadyResult) => void>();
  /** Why a worker reported it could not start (read once, by start()). */
  readonly startFailures = new WeakMap<WorkerRecord, { code: string; stack: string | undefined }>();
  /** Replacements run one after another: each waits for this, then becomes it. */
  replacing: Promise<void> = Promise.resolve();
  /** True while a rolling reload runs (a second SIGHUP is ignored). */
  reloading = false;
  /** The workers a shutdown still waits for. */
  readonly awaitingExit = new Set<WorkerRecord>();
  /** Resolves the shutdown's wait once the last of `awaitingExit` has exited. */
  allExited: (() => void) | undefined;
  exitCode = 0;
  readonly stopped: Promise<number>;
  resolveStopped!: (code: number) => void;

  constructor(o: { config: Config; log: Logger; reloadConfig?: (() => Promise<Config>) | undefined; hooks: SupervisorHooks }) {
    this.config = o.config;
    this.log = o.log;
    this.reloadConfig = o.reloadConfig;
    this.hooks = o.hooks;
    this.restartPolicy = new RestartPolicy(o.config.restart);
    this.stopped = new Promise((r) => {
      this.resolveStopped = r;
    });
  }

  /** Records, logs and streams a supervisor event: the one path every event takes. */
  emitEvent(level: "info" | "warn" | "error", event: string, fields: Record<string, unknown>, msg: string): void {
    const e: SupervisorEvent = { time: new Date().toISOString(), event, ...fields };
    this.recent.push(e);
    if (this.recent.length > RECENT_EVENTS) this.recent.shift();
    this.log[level]({ event, ...fields }, msg);
    this.hooks.onEvent(e);
  }

  /** Resolves true when the worker is listening, or a message saying why it could not start. */
  waitReady(rec: WorkerRecord): Promise<ReadyResult> {
    if (rec.phase === "ready") return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.readyWaiters.delete(rec);
        resolve(`worker ${rec.slot} (pid ${rec.pid}) did not start listening within ${WORKER_START_TIMEOUT_MS / 1000} s`);
      }, WORKER_START_TIMEOUT_MS);
      this.readyWaiters.set(rec, (v) => {
        clearTimeout(t);
        this.readyWaiters.delete(rec);
        resolve(v);
      });
    });
  }

  /** Settles the worker's start-up wait, if anyone waits for it. */
  settleReady(rec: WorkerRecord, v: ReadyResult): void {
    this.readyWaiters.get(rec)?.(v);
  }

  /** True while any worker process (in a slot, retiring or starting) is alive. */
  anyAlive(): boolean {
    return [...this.slots.values(), ...this.retiring, ...this.readyWaiters.keys()].some((r) => r.phase !== "exited");
  }

  /** Workers forked for a replacement that are not in a slot yet. */
  starting(): WorkerRecord[] {
    return [...this.readyWaiters.keys()].filter((r) => r.phase === "starting" && ![...this.slots.values()].includes(r));
  }

  /** A ready worker other than `exclude`, picked at random, to take over a dead worker's connections. */
  anotherReadyWorker(exclude: Worker): Worker | undefined {
    const live = [...this.slots.values()].filter((r) => r.phase === "ready" && r.worker !== exclude && r.worker.isConnected());
    return live[Math.floor(Math.random() * live.length)]?.worker;
  }
}
