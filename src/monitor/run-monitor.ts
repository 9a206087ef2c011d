/**
 * The I/O edge of the monitor: scrape every interval, draw, send webhooks. `watch` runs
 * until its signal aborts; `snapshot` takes two scrapes one interval apart and judges them.
 */
import { hostname } from "node:os";
import { fleetFigures, fleetTable, type FleetFigures } from "./fleet-figures.js";
import { Monitor, type Tick } from "./monitor.js";
import { applyKey, DEFAULT_VIEW, type MonitorView } from "./monitor-view.js";
import { renderDashboard, renderLines, shortTarget } from "./render-dashboard.js";
import { scrapeInstance } from "./scrape.js";
import type { Thresholds } from "./thresholds.js";
import type { Alert, AlertTransition, InstanceView, Rates } from "./types.js";
import { WebhookSender } from "./webhook.js";
import type { WebhookTarget } from "./webhook-formats.js";

/** What `holdfast monitor` needs to run. */
export interface MonitorOptions {
  /** Admin endpoint URLs, e.g. http://127.0.0.1:9464. */
  targets: string[];
  /** Bearer token for the admin endpoints. */
  token?: string | undefined;
  /** Per-target tokens (from `http://:TOKEN@host:port`), overriding `token`; never shown. */
  targetTokens?: ReadonlyMap<string, string> | undefined;
  /** Time between scrapes, ms. */
  intervalMs: number;
  /** Per-request scrape timeout, ms. Default: the interval, between 1 s and 5 s. */
  timeoutMs?: number | undefined;
  thresholds: Thresholds;
  /** Webhooks that get alert transitions, each in its payload format. */
  webhooks: (string | WebhookTarget)[];
  /** Webhook delivery attempts / first backoff (tests shorten them). */
  webhookAttempts?: number | undefined;
  webhookBackoffMs?: number | undefined;
}

/** Where `watch` writes. */
export interface WatchOutput {
  write(text: string): void;
  /** screen: full-screen redraw (a terminal); lines: one line per instance per interval (a pipe); json: one JSON object per interval. */
  format: "screen" | "lines" | "json";
  color: boolean;
  /** Terminal width, read each frame. */
  width?: () => number | undefined;
  /** Delivery problems and other notes (stderr). */
  warn(text: string): void;
  /**
   * Key presses on the full screen (the terminal's stdin, already in raw mode): q quits, digits
   * and tab switch panels, s sorts the workers. Absent: no keys, no key help.
   */
  keys?: NodeJS.EventEmitter | undefined;
}

function scrapeTimeout(o: MonitorOptions): number {
  return o.timeoutMs ?? Math.min(5000, Math.max(1000, o.intervalMs));
}

async function scrapeAll(o: MonitorOptions, signal?: AbortSignal) {
  return Promise.all(o.targets.map((t) => scrapeInstance(t, { token: o.targetTokens?.get(t) ?? o.token, timeoutMs: scrapeTimeout(o), signal })));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

function sender(o: MonitorOptions, warn: (s: string) => void): WebhookSender {
  return new WebhookSender(o.webhooks, {
    attempts: o.webhookAttempts,
    backoffMs: o.webhookBackoffMs,
    monitorHost: hostname(),
    onProblem: (m) => warn(`holdfast monitor: ${m}\n`),
  });
}

function transitionLine(t: AlertTransition): string {
  const a = t.alert;
  return `${new Date().toISOString().slice(0, 19)}Z ALERT ${t.status.toUpperCase()} ${a.rule} ${shortTarget(a.instance)}: ${a.summary}\n`;
}

// The alternate screen (as top and htop use) keeps the user's scrollback intact; the last frame is
// printed again on the normal screen at exit so the final numbers stay visible.
const ENTER_SCREEN = "\x1b[?1049h\x1b[?25l";
const LEAVE_SCREEN = "\x1b[?25h\x1b[?1049l";

/** Runs the live dashboard until `signal` aborts; webhooks get every transition. */
export async function watch(o: MonitorOptions, out: WatchOutput, outer: AbortSignal): Promise<void> {
  const monitor = new Monitor(o.targets, o.thresholds, o.intervalMs);
  const screen = out.format === "screen";
  // `q` stops the watch as the caller's signal does.
  const quit = new AbortController();
  const signal = AbortSignal.any([outer, quit.signal]);
  let view: MonitorView = DEFAULT_VIEW;
  let lastModel: Tick["model"] | undefined;
  // On the full screen a stderr line would be drawn over; problems go into the frame instead.
  const notes: string[] = [];
  const hooks = sender(o, (s) => {
    if (!screen) return out.warn(s);
    notes.push(`${new Date().toISOString().slice(11, 19)}Z ${s.trim()}`);
    notes.splice(0, notes.length - 3);
  });
  let lastFrame = "";
  const drawScreen = (model: Tick["model"]) => {
    const frame = renderDashboard({ ...model, notes }, { color: out.color, width: out.width?.(), view: out.keys ? view : undefined });
    lastFrame = frame;
    // Home, redraw, clear each line's tail and everything below: no flicker, no scrollback spam.
    out.write(`\x1b[H${frame.replace(/\n/g, "\x1b[K\n")}\x1b[J`);
  };
  const onKey = (data: Buffer | string) => {
    for (const key of String(data)) {
      const r = applyKey(view, key);
      if (r.quit) return quit.abort();
      view = r.view;
    }
    // Answer the key at once, not at the next scrape.
    if (lastModel) drawScreen(lastModel);
  };
  if (screen) out.keys?.on("data", onKey);
  const draw = ({ model, transitions }: Tick) => {
    hooks.send(transitions);
    if (screen) {
      lastModel = model;
      drawScreen(model);
    } else if (out.format === "json") {
      const { at, instances, total, alerts } = model;
      out.write(`${JSON.stringify({ at: new Date(at).toISOString(), instances, total, alerts, transitions })}\n`);
    } else {
      out.write(renderLines(model));
      for (const t of transitions) out.write(transitionLine(t));
    }
  };
  if (screen) out.write(ENTER_SCREEN);
  try {
    let next = Date.now();
    while (!signal.aborted) {
      const scrapes = await scrapeAll(o, signal);
      if (signal.aborted) break;
      try {
        draw(monitor.tick(scrapes, Date.now()));
      } catch (err) {
        // A bug in drawing or judging one round must not end the watch an on-call person relies on.
        out.warn(`holdfast monitor: this round failed (${(err as Error).stack ?? err}); still watching. Please report it.\n`);
      }
      next += o.intervalMs;
      const wait = next - Date.now();
      // Behind schedule (slow scrapes): start again from now rather than firing a burst.
      if (wait < 0) next = Date.now();
      await sleep(Math.max(0, wait), signal);
    }
  } finally {
    out.keys?.off("data", onKey);
    if (screen) out.write(`${LEAVE_SCREEN}${lastFrame}`);
    // Give queued alerts a moment to leave, but never hold Ctrl-C hostage to a dead webhook.
    await hooks.drain(2000);
  }
}

/** The `--once --json` document. */
export interface SnapshotDocument {
  at: string;
  /** Seconds between the two scrapes that rates and latency cover. */
  windowS: number;
  /** True when no alert fires. */
  healthy: boolean;
  alerts: Alert[];
  instances: InstanceView[];
  /** All reachable instances summed. */
  total: Rates | undefined;
  thresholds: Thresholds;
  webhooks?: { delivered: number; failed: number; dropped: number } | undefined;
  /** Counts since each instance started, per instance and summed (the figures `holdfast doctor --admin` prints too). */
  figures: FleetFigures;
}

/**
 * Two scrapes `intervalMs` apart, judged at once (`for` and `resolveFor` do not apply to a
 * single look). Firing alerts are POSTed to the webhooks (there is no memory between runs,
 * so there are no resolved POSTs).
 */
export async function snapshot(o: MonitorOptions, warn: (s: string) => void): Promise<{ doc: SnapshotDocument; text: string }> {
  const t: Thresholds = { ...o.thresholds, forMs: 0, resolveForMs: 0, windowMs: Math.max(o.thresholds.windowMs, o.intervalMs * 2) };
  const monitor = new Monitor(o.targets, t, o.intervalMs);
  const first = await scrapeAll(o);
  monitor.tick(first, Date.now());
  const started = Date.now();
  // Only wait when something answered: a dead endpoint gives nothing to compare.
  if (first.some((s) => s.ok)) await sleep(o.intervalMs);
  let scrapes = await scrapeAll(o);
  let tick = monitor.tick(scrapes, Date.now());
  // Workers report about once a second; a second scrape that caught no new report has nothing to
  // compare yet. Look again shortly (the tracker gives up waiting after 2.5 s) rather than judge nothing.
  for (let i = 0; i < 12 && tick.model.instances.some((v) => v.up && !v.interval); i++) {
    await sleep(250);
    scrapes = await scrapeAll(o);
    tick = monitor.tick(scrapes, Date.now());
  }
  const { model } = tick;
  const firing = model.alerts.filter((a) => a.state === "firing");
  let webhooks: SnapshotDocument["webhooks"];
  if (o.webhooks.length && firing.length) {
    const hooks = sender(o, warn);
    // Everything firing now, whichever look it started in (a dead endpoint fires on the first).
    hooks.send(firing.map((alert) => ({ status: "firing" as const, alert })));
    await hooks.drain(15_000);
    webhooks = { ...hooks.stats };
  }
  const doc: SnapshotDocument = {
    at: new Date(model.at).toISOString(),
    windowS: Math.round((Date.now() - started) / 100) / 10,
    healthy: firing.length === 0,
    alerts: firing,
    instances: model.instances,
    total: model.total,
    thresholds: o.thresholds,
    webhooks,
    figures: fleetFigures(
      scrapes.map((sc, i) => ({ instance: model.instances[i]?.target ?? String(i + 1), ...(sc.ok ? { status: sc.status } : { error: sc.error }) })),
    ),
  };
  const dashboard = renderDashboard(model, { color: false });
  // Several instances: the counts since start too, per instance and summed, as the doctor prints them.
  const text = o.targets.length > 1 ? `${dashboard.trimEnd()}\n\nSince each instance started:\n${fleetTable(doc.figures)}\n` : dashboard;
  return { doc, text };
}
