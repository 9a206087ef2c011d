/**
 * What the person at the terminal chose to see: which panel, and how workers are sorted.
 * Keys change it; the dashboard draws it. Pure, so every key is testable without a terminal.
 */

/** The panels below the instance table: everything, or one of them with more room. */
export const PANELS = ["all", "workers", "events", "alerts"] as const;
/** One of {@link PANELS}. */
export type Panel = (typeof PANELS)[number];

/** Worker orders, cycled with `s`: the slot, or the worst first. */
export const WORKER_SORTS = ["slot", "rss", "lag", "inflight", "restarts"] as const;
/** One of {@link WORKER_SORTS}. */
export type WorkerSort = (typeof WORKER_SORTS)[number];

/** The terminal's view state. */
export interface MonitorView {
  panel: Panel;
  sort: WorkerSort;
}

/** Everything, workers by slot. */
export const DEFAULT_VIEW: MonitorView = { panel: "all", sort: "slot" };

/** What a key press does. */
export interface KeyResult {
  view: MonitorView;
  quit: boolean;
}

const next = <T>(list: readonly T[], cur: T): T => list[(list.indexOf(cur) + 1) % list.length] as T;

/** Applies one key (raw terminal input: "q", "\t", "\x03" for Ctrl-C…). Unknown keys change nothing. */
export function applyKey(view: MonitorView, key: string): KeyResult {
  switch (key) {
    case "q":
    case "Q":
    case "\x03": // Ctrl-C in raw mode
    case "\x04": // Ctrl-D
      return { view, quit: true };
    case "\t":
      return { view: { ...view, panel: next(PANELS, view.panel) }, quit: false };
    case "s":
    case "S":
      return { view: { ...view, sort: next(WORKER_SORTS, view.sort) }, quit: false };
  }
  const n = Number(key);
  if (Number.isInteger(n) && n >= 1 && n <= PANELS.length) return { view: { ...view, panel: PANELS[n - 1] as Panel }, quit: false };
  return { view, quit: false };
}

/** The key help line, naming the current choices. */
export function keyHelp(view: MonitorView): string {
  return `q quit · 1-4/tab panel: all workers events alerts (${view.panel}) · s sort (${view.sort})`;
}
