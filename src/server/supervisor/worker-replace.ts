/**
 * Replacing one worker without dropping a request, for a recycle (maxRequests, maxRss) and for
 * each step of a rolling reload: fork the new worker, wait until it listens, put it in the slot,
 * then drain the old one. Replacements run one at a time, so never more than one worker is
 * being replaced at once.
 */
import { retire } from "./worker-drain.js";
import { countSlotRestart, forkWorker } from "./worker-spawn.js";
import type { SupervisorState } from "./supervisor-state.js";

/** Why a worker is replaced while it still serves. */
export type ReplaceReason = "reload" | "recycle";

/** Replaces the worker in `slot` once the replacements queued before it are done; rejects when the new one does not start. */
export function replace(s: SupervisorState, slot: number, reason: ReplaceReason, fields: Record<string, unknown> = {}): Promise<void> {
  const run = () => replaceNow(s, slot, reason, fields);
  const p = s.replacing.then(run, run);
  s.replacing = p.catch(() => undefined);
  return p;
}

async function replaceNow(s: SupervisorState, slot: number, reason: ReplaceReason, fields: Record<string, unknown>): Promise<void> {
  const old = s.slots.get(slot);
  if (old?.phase !== "ready" || s.phase !== "running") return;
  if (reason === "recycle") {
    s.counters.recycles++;
    s.metrics.recycles.inc();
    s.emitEvent(
      "info",
      "worker.recycle",
      { slot, workerPid: old.pid, ...fields },
      `recycling worker ${slot} (pid ${old.pid}): ${String(fields.reason ?? reason)}`,
    );
  }
  const fresh = forkWorker(s, slot);
  const ok = await s.waitReady(fresh);
  if (ok !== true) {
    if (s.phase !== "running") return; // shutdown overtook the replacement
    s.emitEvent("error", "worker.replace.failed", { slot, reason, error: ok }, `new worker for slot ${slot} did not start (${ok}); keeping the old one`);
    fresh.worker.process.kill("SIGKILL");
    throw new Error(ok);
  }
  s.slots.set(slot, fresh);
  countSlotRestart(s, slot);
  // Move on once the old worker has nothing in flight: its idle keep-alive sockets may stay open
  // until the proxy closes them (drain-policy.ts), and waiting for that would stretch a reload by minutes.
  const quietOrGone = new Promise<void>((r) => {
    if (old.phase === "exited") return r();
    old.onQuiet = r;
    old.worker.once("exit", () => r());
  });
  retire(s, old, reason);
  await quietOrGone;
}
