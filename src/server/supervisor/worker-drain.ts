/**
 * Draining workers and stopping the instance: asking one worker to drain, retiring a replaced
 * worker (killed if it overstays its drain), the graceful shutdown on SIGTERM/SIGINT or a crash
 * loop (readiness false, every worker drains up to timeouts.graceful) and its hard limit.
 * How long a drain may keep idle sockets is drain-policy.ts's to say.
 */
import { rmSync } from "node:fs";
import { idleSocketsBoundMs } from "../drain-policy.js";
import type { SupervisorMessage } from "../messages.js";
import type { SupervisorState, WorkerRecord } from "./supervisor-state.js";

/** Marks the worker draining and tells it so (a worker whose IPC channel is gone gets SIGTERM). */
export function askToDrain(rec: WorkerRecord, reason: SupervisorMessage["reason"]): void {
  rec.phase = "draining";
  rec.drainReason = reason;
  if (rec.worker.isConnected()) rec.worker.send({ hf: "drain", reason } satisfies SupervisorMessage);
  else rec.worker.process.kill("SIGTERM");
}

/** Drains a worker that no longer holds its slot, and kills it when it does not exit in time. */
export function retire(s: SupervisorState, rec: WorkerRecord, reason: SupervisorMessage["reason"]): void {
  if (rec.phase === "draining" || rec.phase === "exited") return;
  askToDrain(rec, reason);
  s.retiring.add(rec);
  // A worker that does not finish draining in time is killed.
  const limit = idleSocketsBoundMs(s.config, reason) + 5000;
  setTimeout(() => {
    if (rec.phase !== "exited") {
      s.emitEvent(
        "warn",
        "worker.kill",
        { slot: rec.slot, workerPid: rec.pid, reason: "drain-timeout" },
        `worker ${rec.slot} (pid ${rec.pid}) did not exit after draining; killing it`,
      );
      rec.worker.process.kill("SIGKILL");
    }
  }, limit).unref();
}

/** Graceful shutdown: readiness false, workers drain (up to timeouts.graceful), then exit. */
export async function shutdown(s: SupervisorState, reason: string, exitCode = 0): Promise<void> {
  if (s.phase === "stopping" || s.phase === "stopped") return;
  s.exitCode = exitCode;
  s.phase = "stopping";
  if (s.watch) clearInterval(s.watch);
  const live = [...new Set([...s.slots.values(), ...s.retiring, ...s.starting()])].filter((r) => r.phase !== "exited");
  for (const r of live) s.awaitingExit.add(r);
  s.emitEvent(
    "info",
    "shutdown",
    { phase: "start", reason, workers: live.length, gracefulMs: s.config.timeouts.graceful },
    `shutting down (${reason}): draining ${live.length} workers`,
  );
  const allExited = new Promise<void>((resolve) => {
    s.allExited = resolve;
    if (live.length === 0) resolve();
  });
  for (const rec of live) {
    if (rec.phase !== "draining") askToDrain(rec, "shutdown");
    // A worker still draining after a reload waits for its clients to close idle sockets: tell it
    // the instance is stopping, so it closes them within timeouts.graceful like the others.
    else if (rec.worker.isConnected()) rec.worker.send({ hf: "drain", reason: "shutdown" } satisfies SupervisorMessage);
  }
  const hard = setTimeout(() => killAll(s), s.config.timeouts.graceful + 2000);
  await allExited;
  clearTimeout(hard);
  s.phase = "stopped";
  rmSync(s.stallDir, { recursive: true, force: true });
  s.emitEvent("info", "shutdown", { phase: "done", exitCode: s.exitCode }, "all workers stopped");
  s.resolveStopped(s.exitCode);
}

/** Notes a worker's exit during a shutdown; the shutdown finishes when the last one is gone. */
export function exitedDuringShutdown(s: SupervisorState, rec: WorkerRecord): void {
  s.awaitingExit.delete(rec);
  if (s.phase === "stopping" && s.awaitingExit.size === 0) s.allExited?.();
}

/** The hard limit of a shutdown: every worker it still waits for is killed (a replacement still starting included). */
export function killAll(s: SupervisorState): void {
  for (const rec of new Set([...s.slots.values(), ...s.retiring, ...s.awaitingExit])) {
    if (rec.phase === "exited") continue;
    s.emitEvent(
      "warn",
      "worker.kill",
      { slot: rec.slot, workerPid: rec.pid, reason: "shutdown-timeout" },
      `worker ${rec.slot} (pid ${rec.pid}) had not exited ${s.config.timeouts.graceful / 1000} s + 2 s after shutdown began; killing it`,
    );
    rec.worker.process.kill("SIGKILL");
  }
}
