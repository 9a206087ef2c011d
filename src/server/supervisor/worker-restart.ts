/**
 * What the supervisor does when a worker exits: an exit it asked for (drain, shutdown) is
 * logged and the slot left to its replacement; one it did not ask for (crash, kill -9, OOM
 * killer, uncaught exception) is replaced by the decision of restart-policy.ts: at once, after
 * the slot's backoff, or not at all when the deaths add up to a crash loop (then it shuts down).
 */
import { exitedDuringShutdown, shutdown } from "./worker-drain.js";
import { forkReplacement } from "./worker-spawn.js";
import type { SupervisorState, WorkerRecord } from "./supervisor-state.js";

/** Handles a worker process's exit, whatever its cause. */
export function onWorkerExit(s: SupervisorState, rec: WorkerRecord, code: number | null, signal: string | null): void {
  const wasPhase = rec.phase;
  rec.phase = "exited";
  s.metrics.retire(rec);
  s.retiring.delete(rec);
  s.settleReady(rec, `worker ${rec.slot} (pid ${rec.pid}) exited (code ${code}, signal ${signal}) before it was ready`);
  const intentional = wasPhase === "draining" || s.phase === "stopping" || s.phase === "stopped";
  const reason = rec.killedBy ?? (intentional ? (rec.drainReason ?? "shutdown") : "crash");
  const uptimeS = Math.round((Date.now() - rec.startedAt) / 1000);
  const fields = { slot: rec.slot, workerPid: rec.pid, code, signal, reason, uptimeS };
  if (s.phase !== "running" || (intentional && !rec.killedBy)) {
    s.emitEvent(intentional && !rec.killedBy ? "info" : "warn", "worker.exit", fields, `worker ${rec.slot} (pid ${rec.pid}) exited: ${reason}`);
    exitedDuringShutdown(s, rec);
    return;
  }
  if (s.slots.get(rec.slot) !== rec) {
    // Already replaced (timeout path).
    s.emitEvent("warn", "worker.exit", fields, `worker ${rec.slot} (pid ${rec.pid}) exited: ${reason}`);
    return;
  }
  countCrash(s);
  restartSlot(s, rec, signal, fields);
}

/** One more worker that died unasked (an exit, or an uncaught exception it reported). */
export function countCrash(s: SupervisorState): void {
  s.counters.crashes++;
  s.metrics.crashes.inc();
}

/**
 * Replaces a worker that died unasked (crash, kill -9, OOM killer, uncaught exception): at
 * once when it had got ready, after its slot's backoff when it died before, and not at all
 * when young deaths add up to a crash loop. Logs worker.exit when `exitFields` is given.
 */
export function restartSlot(s: SupervisorState, rec: WorkerRecord, signal: string | null, exitFields?: Record<string, unknown>): void {
  const d = s.restartPolicy.onDeath({ slot: rec.slot, at: Date.now(), readyAt: rec.readyAt, signal });
  if (exitFields) {
    const when =
      d.action === "give-up"
        ? "not restarted (crash loop)"
        : d.delayMs === 0
          ? "replaced at once"
          : `restarting in ${d.delayMs} ms (it died before it was ready; the slot backs off)`;
    s.emitEvent(
      "warn",
      "worker.exit",
      { ...exitFields, countsTowardCrashLoop: d.counted, restartInMs: d.action === "give-up" ? null : d.delayMs },
      `worker ${rec.slot} (pid ${rec.pid}) exited: ${String(exitFields.reason)}; ${when}`,
    );
  }
  if (d.action === "give-up") {
    const r = s.config.restart;
    const msg = `Crash loop: ${d.recentEarlyDeaths} worker crashes within ${r.crashLoopWindow / 1000} s (restart.crashLoopMax = ${r.crashLoopMax}), each before the worker was ready or within restart.minUptime (${r.minUptime / 1000} s) of it: the app cannot start or cannot stay up. holdfast stops instead of restarting in a loop. Read the worker.exit and worker.uncaught events in ${s.config.log.file} for the cause, fix it, and start again.`;
    s.emitEvent("error", "worker.crashloop", { crashes: d.recentEarlyDeaths, windowMs: r.crashLoopWindow }, msg);
    process.stderr.write(`holdfast: ${msg}\n`);
    void shutdown(s, "crashloop", 1);
    return;
  }
  const fork = () => {
    if (s.phase === "running" && s.slots.get(rec.slot) === rec) forkReplacement(s, rec.slot);
  };
  if (d.delayMs === 0) fork();
  else setTimeout(fork, d.delayMs).unref();
}
