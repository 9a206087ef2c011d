/**
 * Event-loop blocking: synchronous work (big JSON, sync crypto/fs, regex backtracking) stalls a
 * worker; every request on it waits, and past the heartbeat timeout the worker is killed.
 */
import type { Correlation, Dataset, Finding, Rule } from "../types.js";
import { appEventFinding, max, numbers } from "./app-event-rule.js";

/** Lag under this is noise. */
const LAG_MS = 200;

export const eventLoopBlocking: Rule = {
  id: "event-loop-blocking",
  summary: "Event loop blocked for hundreds of ms: requests on that worker stall.",
  run(data: Dataset, corr: Correlation): Finding[] {
    const maxLag =
      max(
        numbers(
          data.appEvents.filter((e) => e.record.event === "eventloop.lag"),
          "lagMs",
        ),
      ) ?? 0;
    const fix = {
      summary:
        "Move CPU-heavy work off the event loop (worker_threads, streaming JSON, async crypto/zlib), and let admission control shed sheddable routes when the lag rises.",
      holdfast: `admission: { eventLoopDelay: "200ms", routes: [{ path: "/api/export", priority: "sheddable" }] }`,
    };
    const found = appEventFinding(data, corr, {
      id: "event-loop-blocking",
      title: "Event loop blocked: a worker stops answering for hundreds of ms",
      severity: maxLag >= 5000 ? "error" : "warning",
      events: (e) => e.event === "eventloop.lag" && typeof e.fields.lagMs === "number" && e.fields.lagMs >= LAG_MS,
      eventLabel: "eventloop.lag",
      perRequest: false,
      beforeMs: Math.min(maxLag, 60_000) + 500,
      afterMs: 1000,
      detail: () => `Worst lag ${maxLag} ms.`,
      fix,
    });
    if (found.length) return found;
    const lagging: string[] = [];
    for (const a of data.probes.admin ?? [])
      for (const w of a.status?.workers ?? []) if ((w.eventLoopLagMs ?? 0) >= LAG_MS) lagging.push(`${a.url} worker ${w.id}: ${w.eventLoopLagMs} ms`);
    if (!lagging.length) return [];
    return [
      {
        id: "event-loop-blocking",
        title: "Event loop lagging now (live)",
        severity: "warning",
        confidence: 0.6,
        explains: 0,
        evidence: { summary: `Event-loop lag ≥ ${LAG_MS} ms: ${lagging.slice(0, 4).join("; ")}.`, counts: {}, samples: [] },
        fix,
      },
    ];
  },
};
