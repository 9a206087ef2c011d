/**
 * One line on the terminal for what an operator watching `holdfast serve` must not miss: a worker
 * killed by the watchdog, a worker that crashed, a burst of shed requests. The JSON log has the
 * details (stack, in-flight requests); these lines only say that it happened and where to look.
 * Only for a terminal: piped stderr goes to a journal that already has the log.
 */
import type { Supervisor } from "./supervisor.js";
import type { SupervisorEvent } from "./supervisor-state.js";

/** Where the notices go and how often shedding is looked at. */
export interface TerminalNoticeOptions {
  write(line: string): void;
  /** Where the details are: the admin URL, for the dashboard. */
  adminUrl?: string | undefined;
  /** How often shed totals are compared, ms (default 1000). */
  intervalMs?: number;
  /** Quiet time after which the next shedding starts a new burst, ms (default 10 000). */
  burstGapMs?: number;
}

function clock(): string {
  return new Date().toTimeString().slice(0, 8);
}

/** Starts printing notices for `sup`; returns a function that stops it. */
export function startTerminalNotices(sup: Supervisor, o: TerminalNoticeOptions): () => void {
  const where = o.adminUrl ? ` Dashboard: ${o.adminUrl}` : "";
  const onEvent = (e: SupervisorEvent) => {
    if (e.event === "worker.timeout") {
      const top = (e.inflight as { method?: string; path?: string }[] | undefined)?.[0];
      o.write(
        `holdfast ${clock()}: watchdog killed worker ${e.slot} (pid ${e.workerPid}): event loop stuck ${Math.round(Number(e.heartbeatAgeMs) / 100) / 10} s${top ? ` in ${top.method} ${top.path}` : ""}; replacing it. Stack: "worker.timeout" in the log.\n`,
      );
    } else if (e.event === "worker.fatal") {
      o.write(`holdfast ${clock()}: worker ${e.slot} (pid ${e.workerPid}) crashed: ${String(e.error)}; replacing it. Stack: "worker.uncaught" in the log.\n`);
    }
    // worker.crashloop: the supervisor prints it itself, terminal or not, as the reason it stops.
  };
  sup.on("event", onEvent);
  const totals = () => sup.metrics.requestTotals([...sup.slots.values(), ...sup.retiring]);
  // The baseline is taken now, so requests shed before the first tick still start a burst.
  let lastShed = totals().shed;
  let lastShedAt = 0;
  const gap = o.burstGapMs ?? 10_000;
  const timer = setInterval(() => {
    const { shed, requests } = totals();
    const before = lastShed;
    lastShed = shed;
    if (shed <= before) return;
    const now = Date.now();
    const newBurst = now - lastShedAt > gap;
    lastShedAt = now;
    if (newBurst)
      o.write(
        `holdfast ${clock()}: shedding load: ${shed - before} requests answered 503 + Retry-After in the last ${Math.round((o.intervalMs ?? 1000) / 100) / 10} s (${shed} of ${requests} since start); the workers are at their concurrency limit.${where}\n`,
      );
  }, o.intervalMs ?? 1000);
  timer.unref();
  return () => {
    clearInterval(timer);
    sup.off("event", onEvent);
  };
}
