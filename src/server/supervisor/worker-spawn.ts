/**
 * Starting worker processes: how node:cluster runs worker-main (tsx for TypeScript, no
 * inherited arguments), what a worker gets in its environment (config without the admin
 * token), which port value it asks for so every worker shares one socket, and its record in
 * the worker table with its IPC messages and exit wired to the supervisor.
 */
import cluster from "node:cluster";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Config } from "../../config/index.js";
import { resolveOptional } from "../../optional/index.js";
import { isWorkerMessage } from "../messages.js";
import type { SupervisorState, WorkerRecord } from "./supervisor-state.js";

/** Points node:cluster at worker-main, adding tsx when holdfast or the app is TypeScript. */
export function setupWorkerProcess(config: Config): void {
  const here = fileURLToPath(import.meta.url);
  const ext = here.endsWith(".ts") ? ".ts" : ".js";
  const execArgv = [...process.execArgv.filter((a) => !a.startsWith("--inspect"))];
  const appIsTs = /\.(c|m)?tsx?$/.test(config.app ?? "");
  if ((ext === ".ts" || appIsTs) && !execArgv.some((a, i) => a === "tsx" || (execArgv[i - 1] === "--import" && a.includes("tsx")))) {
    execArgv.push("--import", resolveOptional("tsx", appIsTs ? `The app ${config.app} is TypeScript` : "holdfast is running from its TypeScript source"));
  }
  // args: [] — by default cluster hands workers the supervisor's own arguments, and `--db postgres://u:pw@…`
  // would then show in every worker's command line (ps, /proc/<pid>/cmdline). Workers read HOLDFAST_CONFIG.
  cluster.setupPrimary({ exec: fileURLToPath(new URL(`../worker/worker-main${ext}`, import.meta.url)), execArgv, args: [], silent: false });
}

/** Forks a worker for `slot`; it takes the slot unless a live worker still holds it (a replacement swaps it in when ready). */
export function forkWorker(s: SupervisorState, slot: number): WorkerRecord {
  const worker = cluster.fork({
    // Workers never serve the admin endpoint: the token stays in the supervisor.
    HOLDFAST_CONFIG: JSON.stringify({ ...s.config, port: portForNextWorker(s), admin: { ...s.config.admin, token: undefined } }),
    HOLDFAST_WORKER_ID: String(slot),
    HOLDFAST_WORKERS: String(s.config.workers),
    HOLDFAST_STALL_FILE: join(s.stallDir, `stall-${slot}-${Date.now()}.json`),
    // An undefined value removes the inherited variable: the token must not reach app code either.
    HOLDFAST_ADMIN_TOKEN: undefined,
  });
  const pid = worker.process.pid ?? 0;
  s.rescue.watch(worker, ({ handedOver, closed }) =>
    s.emitEvent(
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
    if (isWorkerMessage(m)) s.hooks.onWorkerMessage(rec, m);
  });
  worker.on("exit", (code, signal) => s.hooks.onWorkerExit(rec, code, signal));
  const prev = s.slots.get(slot);
  if (!prev || prev.phase === "exited") s.slots.set(slot, rec);
  return rec;
}

/** Forks the replacement of a worker that died or was killed, in its slot at once, and counts the restart. */
export function forkReplacement(s: SupervisorState, slot: number): WorkerRecord {
  const rec = forkWorker(s, slot);
  s.slots.set(slot, rec);
  countSlotRestart(s, slot);
  s.counters.restarts++;
  s.metrics.restarts.inc();
  return rec;
}

/** One more worker started in `slot` (the /status `restarts` column). */
export function countSlotRestart(s: SupervisorState, slot: number): void {
  s.restartsBySlot.set(slot, (s.restartsBySlot.get(slot) ?? 0) + 1);
}

/**
 * With port 0 the first worker picks the port. While any worker lives, new ones ask for the
 * same value (0), so node:cluster hands them the same socket; when none is left, the next one
 * asks for the port the service had, so it does not move to a new one.
 */
function portForNextWorker(s: SupervisorState): number {
  if (!s.anyAlive() || s.sharedPortValue === undefined) s.sharedPortValue = s.listenPort || s.config.port;
  return s.sharedPortValue;
}
