/**
 * Memory growth and recycling: workers run out of heap (OOM kill, "JavaScript heap out of
 * memory") or are recycled for RSS again and again; each death drops its in-flight requests.
 */
import { claim, deathPairs, deathWindows, failuresInWindow } from "../correlate.js";
import type { Correlation, Dataset, Finding, Rule } from "../types.js";
import { detectStack } from "../stack.js";
import { max, numbers } from "./app-event-rule.js";
import { speaksHoldfast } from "./stack-fixes.js";
import { between, failureWindow, ofTotal, samples, statusCounts, windowOfTimes } from "./evidence.js";

export const memoryGrowth: Rule = {
  id: "memory-growth",
  summary: "Workers run out of memory or are recycled for RSS; deaths drop in-flight requests.",
  run(data: Dataset, corr: Correlation): Finding[] {
    const ooms = deathWindows(data.appEvents).filter((d) => d.cause === "oom");
    const recycles = data.appEvents.filter((e) => e.record.event === "worker.recycle" && e.record.fields.reason === "maxRss");
    if (ooms.length === 0 && recycles.length < 3) return [];
    const hits = new Set<number>();
    for (const d of ooms) for (const i of failuresInWindow(data, d.from, d.to)) hits.add(i);
    const counts = statusCounts(data, hits);
    const w = failureWindow(data, hits) ?? windowOfTimes([...ooms.map((d) => d.event.record.time), ...recycles.map((e) => e.record.time)]);
    const rss = max(numbers(recycles, "rssBytes"));
    const stack = detectStack(
      data,
      ooms.map((d) => d.event),
    );
    // A bare app (no holdfast supervisor) has no workers or recycling: it is the process that dies.
    const holdfast = speaksHoldfast(stack);
    const who = holdfast ? "Workers" : "The app process";
    const deaths = `${ooms.length} out-of-memory death${ooms.length === 1 ? "" : "s"}${holdfast || recycles.length ? ` and ${recycles.length} RSS recycle${recycles.length === 1 ? "" : "s"}` : ""}`;
    return [
      claim(
        corr,
        {
          id: "memory-growth",
          title: ooms.length ? `${who} killed for running out of memory` : "Workers recycled again and again for memory (RSS keeps growing)",
          severity: ooms.length ? "critical" : "warning",
          confidence: ooms.length ? 0.85 : 0.6,
          explains: hits.size,
          evidence: {
            summary: `${deaths} ${between(w)}${rss ? ` (RSS up to ${(rss / 1024 / 1024).toFixed(0)} MB)` : ""}${hits.size ? `; ${ofTotal(data, counts)} fall in those deaths' windows` : ""}.`,
            counts: { ...counts, ooms: ooms.length, recycles: recycles.length },
            window: w,
            samples: samples(data, hits, [...ooms.map((d) => d.event), ...recycles].slice(0, 2)),
          },
          fix: holdfast
            ? {
                summary:
                  "Recycle workers gracefully before they hit the heap limit, and find the leak (heap snapshot of a long-running worker: node --heapsnapshot-signal=SIGUSR2).",
                holdfast: `recycle: { maxRss: "512MB", maxRequests: 10000, maxRequestsJitter: 1000 }\n// and start workers with NODE_OPTIONS=--max-old-space-size=768`,
              }
            : {
                summary:
                  "Find the leak: memory that grows with traffic and is never freed (a module-level Map or cache without eviction, listeners added per request). Take heap snapshots as it grows and compare them; until it is fixed, run more than one instance so a crash does not take the whole upstream down.",
                stack:
                  stack.language === "node" || stack.language === "unknown"
                    ? {
                        name: "node",
                        lines:
                          "node --heapsnapshot-near-heap-limit=2 --heapsnapshot-signal=SIGUSR2 app.js   # snapshots before the next crash, and on kill -USR2 <pid>",
                      }
                    : undefined,
              },
        },
        hits,
        deathPairs(data, ooms),
      ),
    ];
  },
};
