/**
 * This thread's garbage-collection pauses, for the inline policy (inline-profiles.ts): a scavenge
 * triggered inside an inline run makes the run look slow. One PerformanceObserver per process,
 * shared by every open database, started by the first subscriber and stopped with the last.
 * Entries arrive a turn or two after the collection.
 */
import { PerformanceObserver } from "node:perf_hooks";

/** Gets each pause's start (performance.now() time base) and length in ms. */
export type GcPauseListener = (start: number, durationMs: number) => void;

const listeners = new Set<GcPauseListener>();
let observer: PerformanceObserver | undefined;

/** Calls `fn` for every garbage collection from now on; returns the function that stops it. */
export function watchGcPauses(fn: GcPauseListener): () => void {
  listeners.add(fn);
  if (observer === undefined) {
    observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) for (const l of listeners) l(e.startTime, e.duration);
    });
    observer.observe({ entryTypes: ["gc"] });
  }
  return () => {
    listeners.delete(fn);
    if (listeners.size === 0) {
      observer?.disconnect();
      observer = undefined;
    }
  };
}
