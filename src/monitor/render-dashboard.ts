/**
 * Draws the dashboard as a string: a full screen for a terminal, or one compact line per
 * instance per interval for a pipe or a log file. Pure; plain ANSI colours only when asked.
 */
import { fitColumns } from "./fit-columns.js";
import { DEFAULT_VIEW, keyHelp, type MonitorView } from "./monitor-view.js";
import type { Alert, InstanceView, Rates, SupervisorEventView, WorkerView } from "./types.js";

/** Everything one frame shows. */
export interface DashboardModel {
  at: number;
  intervalMs: number;
  instances: InstanceView[];
  /** All reachable instances summed over the last interval. */
  total: Rates | undefined;
  alerts: Alert[];
  /** Recent problems of the monitor itself (webhook delivery), newest last. */
  notes?: string[] | undefined;
}

/** How to draw. */
export interface RenderOptions {
  /** ANSI colours (TTY and NO_COLOR unset). */
  color: boolean;
  /** Terminal width: tables drop their least important columns to fit, other long lines are cut. */
  width?: number | undefined;
  /** Panel and worker order chosen with keys; absent = everything, by slot, no key help. */
  view?: MonitorView | undefined;
}

const C = { red: "\x1b[31m", yellow: "\x1b[33m", green: "\x1b[32m", dim: "\x1b[2m", bold: "\x1b[1m", reset: "\x1b[0m" };

function paint(on: boolean, color: keyof typeof C, text: string): string {
  return on ? `${C[color]}${text}${C.reset}` : text;
}

/** "1.2k", "40.0", "0" — rates per second. */
function fmtRate(n: number | undefined): string {
  if (n === undefined) return "-";
  if (n === 0) return "0";
  if (n >= 1000) return `${(n / 1000).toFixed(1)}k`;
  return n >= 100 ? n.toFixed(0) : n.toFixed(1);
}

/** "3ms", "1.25s". */
function fmtMs(ms: number | undefined): string {
  if (ms === undefined) return "-";
  if (ms >= 1000) return `${(ms / 1000).toFixed(ms >= 10_000 ? 0 : 2)}s`;
  return `${ms >= 10 ? Math.round(ms) : ms.toFixed(1)}ms`;
}

/** "0.5%", "12%". */
function fmtPct(x: number | undefined): string {
  if (x === undefined) return "-";
  const p = x * 100;
  return `${p === 0 ? "0" : p < 10 ? p.toFixed(1) : p.toFixed(0)}%`;
}

/** "61MB", "1.2GB", "512KB". */
function fmtBytes(b: number | undefined): string {
  if (b === undefined) return "-";
  if (b >= 1024 ** 3) return `${(b / 1024 ** 3).toFixed(1)}GB`;
  if (b >= 1024 ** 2) return `${Math.round(b / 1024 ** 2)}MB`;
  if (b >= 1024) return `${Math.round(b / 1024)}KB`;
  return `${b}B`;
}

function fmtUptime(s: number | undefined): string {
  if (s === undefined) return "-";
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return `${(s / 3600).toFixed(1)}h`;
}

/** Short name for an admin URL: host:port. */
export function shortTarget(target: string): string {
  try {
    const u = new URL(target);
    return u.host + (u.pathname !== "/" ? u.pathname : "");
  } catch {
    return target;
  }
}

const COLUMNS = [
  "INSTANCE",
  "STATE",
  "REQ/S",
  "5XX/S",
  "5XX%",
  "503/S",
  "SHED/S",
  "P50",
  "P99",
  "WORKERS",
  "RESTARTS",
  "POOL",
  "WAIT",
  "WAL",
  "LOCK-TO",
  "ADMIT",
] as const;
/**
 * Which instance columns stay on a narrow terminal (higher stays longer): the success metrics
 * first (5xx share, p99, pool, lock timeouts, stable workers), then what explains them.
 */
const PRIORITY = [100, 99, 95, 40, 94, 70, 72, 60, 93, 90, 85, 88, 50, 30, 87, 65];
const WORKER_PRIORITY = [10, 100, 60, 99, 50, 90, 95, 80, 85, 70];

const WORKER_ORDER: Record<MonitorView["sort"], (a: WorkerView, b: WorkerView) => number> = {
  slot: (a, b) => a.id - b.id,
  rss: (a, b) => b.rssBytes - a.rssBytes,
  lag: (a, b) => b.eventLoopLagMs - a.eventLoopLagMs,
  inflight: (a, b) => b.inflight - a.inflight,
  restarts: (a, b) => b.restarts - a.restarts,
};

function row(name: string, v: InstanceView | undefined, r: Rates | undefined): string[] {
  if (v && !v.up) return [name, "DOWN", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-"];
  const ready = v ? v.workers.filter((w) => w.state === "ready").length : undefined;
  return [
    name,
    v ? (v.phase === "running" ? "UP" : (v.phase ?? "UP").toUpperCase()) : "",
    fmtRate(r?.requestsPerS),
    fmtRate(r?.errors5xxPerS),
    fmtPct(r?.errorRatio),
    r?.source === "status" ? "?" : fmtRate(r?.s503PerS),
    fmtRate(r?.shedPerS),
    fmtMs(r?.p50Ms),
    fmtMs(r?.p99Ms),
    v ? `${ready}/${v.workers.length}` : "",
    v?.totals ? String(v.totals.restarts) : "",
    v?.pool ? fmtPct(v.pool.utilization) : v ? "-" : "",
    v?.pool ? String(v.pool.waiting) : v ? "-" : "",
    v?.sqlite ? fmtBytes(v.sqlite.walBytes) : v ? "-" : "",
    v?.sqlite ? String(v.sqlite.lockTimeoutsTotal) : v ? "-" : "",
    v?.admission ? (v.admission.mode === "off" ? "off" : `${v.admission.inflight}/${v.admission.limit} q${v.admission.queued}`) : v ? "-" : "",
  ];
}

function hiddenNote(hidden: string[], color: boolean): string[] {
  return hidden.length ? [paint(color, "dim", `  hidden to fit: ${hidden.join(" ")}`)] : [];
}

function alertLine(a: Alert, color: boolean): string {
  const tag =
    a.state === "firing"
      ? paint(color, "red", "FIRING   ")
      : a.state === "resolving"
        ? paint(color, "yellow", "CLEARING ")
        : paint(color, "yellow", "PENDING  ");
  return `  ${tag}${a.rule.padEnd(17)} ${shortTarget(a.instance).padEnd(22)} ${a.summary}  ${paint(color, "dim", `since ${a.since.slice(11, 19)}Z`)}`;
}

/** An alert on a narrow terminal: what and where on one line, the evidence wrapped below (never cut). */
function narrowAlertLines(a: Alert, color: boolean, width: number): string[] {
  const head = alertLine({ ...a, summary: "" }, color).replace(/ {2,}(?=\S*since)/, "  ");
  const out = [head];
  let line = "     ";
  for (const word of a.summary.split(" ")) {
    if (line.length + word.length + 1 > width && line.trim()) {
      out.push(line);
      line = "     ";
    }
    line += ` ${word}`;
  }
  if (line.trim()) out.push(line);
  return out;
}

/** `worker.exit slot=2 workerPid=4242 reason=crash code=1`: an event on one line, bulky fields summarised. */
function fmtEvent(e: SupervisorEventView): string {
  const parts = [e.event];
  for (const [k, v] of Object.entries(e)) {
    if (k === "time" || k === "event" || k === "stack" || v === undefined || v === null) continue;
    if (Array.isArray(v)) parts.push(`${k}=[${v.length}]`);
    else if (typeof v === "object") continue;
    else {
      const text = String(v);
      parts.push(`${k}=${/\s/.test(text) ? JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text) : text}`);
    }
  }
  return parts.join(" ");
}

/** The full-screen frame (no cursor codes; the caller clears the screen). */
export function renderDashboard(m: DashboardModel, o: RenderOptions): string {
  const lines: string[] = [];
  const view = o.view ?? DEFAULT_VIEW;
  const show = (panel: MonitorView["panel"]) => view.panel === "all" || view.panel === panel;
  const time = new Date(m.at).toISOString().slice(11, 19);
  const source = m.instances.some((v) => v.interval?.source === "status")
    ? "rates from /status counters where /metrics failed"
    : "rates and latency from /metrics histogram deltas";
  lines.push(
    `${paint(o.color, "bold", "holdfast monitor")}  ${time} UTC  every ${m.intervalMs / 1000}s  ${m.instances.length} instance${m.instances.length === 1 ? "" : "s"}  ${paint(o.color, "dim", `(${source}, last interval)`)}`,
    "",
  );
  const rows: string[][] = [[...COLUMNS]];
  for (const v of m.instances) rows.push(row(shortTarget(v.target), v, v.interval));
  if (m.instances.length > 1) rows.push(row("TOTAL", undefined, m.total));
  const fitted = fitColumns({ rows, priority: PRIORITY }, o.width);
  const t = fitted.lines;
  lines.push(paint(o.color, "dim", t[0] ?? ""));
  for (let i = 1; i < t.length; i++) {
    const v = m.instances[i - 1];
    lines.push(v && !v.up ? paint(o.color, "red", t[i] ?? "") : (t[i] ?? ""));
  }
  lines.push(...hiddenNote(fitted.hidden, o.color));
  const notes = m.instances.filter((v) => v.error);
  if (notes.length) {
    lines.push("");
    for (const v of notes) lines.push(paint(o.color, v.up ? "yellow" : "red", `  ${shortTarget(v.target)}: ${v.up ? "" : "DOWN — "}${v.error}`));
  }
  const wrows: string[][] = [["WORKERS", "ID", "PID", "STATE", "UP", "RSS", "LOOP LAG", "INFLIGHT", "RESTARTS", "HEARTBEAT"]];
  // The column the workers are sorted by is marked (worst first).
  const sortedColumn = { slot: -1, rss: 5, lag: 6, inflight: 7, restarts: 8 }[view.sort];
  if (sortedColumn > 0) (wrows[0] as string[])[sortedColumn] += "↓";
  const wstate: boolean[] = [true];
  for (const v of show("workers") ? m.instances : []) {
    for (const w of [...v.workers].sort(WORKER_ORDER[view.sort])) {
      wrows.push([
        m.instances.length > 1 ? shortTarget(v.target) : "",
        String(w.id),
        String(w.pid),
        w.state,
        fmtUptime(w.uptimeS),
        fmtBytes(w.rssBytes),
        fmtMs(w.eventLoopLagMs),
        String(w.inflight),
        String(w.restarts),
        `${fmtMs(w.lastHeartbeatMsAgo)} ago`,
      ]);
      // A worker not serving, or with a loop stalled past a second, is what to look at first.
      wstate.push(w.state === "ready" && w.eventLoopLagMs < 1000);
    }
  }
  if (show("workers")) {
    const wf = fitColumns({ rows: wrows, priority: WORKER_PRIORITY }, o.width);
    const wt = wf.lines;
    // With one instance the first column is empty: the header names the table instead.
    lines.push("", paint(o.color, "dim", wt[0] ?? ""));
    for (let i = 1; i < wt.length; i++) lines.push(wstate[i] ? (wt[i] ?? "") : paint(o.color, "yellow", wt[i] ?? ""));
    lines.push(...hiddenNote(wf.hidden, o.color));
  }
  const events = show("events")
    ? m.instances
        .flatMap((v) => (v.events ?? []).map((e) => ({ e, v })))
        .sort((a, b) => (a.e.time < b.e.time ? -1 : 1))
        .slice(view.panel === "events" ? -20 : -5)
    : [];
  if (events.length) {
    lines.push("", paint(o.color, "dim", "EVENTS"));
    for (const { e, v } of events) {
      const warn = /exit|timeout|fatal|crash|failed|kill/.test(e.event) && !/reason=(recycle|reload|shutdown)/.test(fmtEvent(e));
      const text = `  ${e.time.slice(11, 19)}Z ${m.instances.length > 1 ? `${shortTarget(v.target)} ` : ""}${fmtEvent(e)}`;
      lines.push(warn ? paint(o.color, "yellow", text) : text);
    }
  }
  if (show("alerts")) {
    lines.push("", m.alerts.length ? paint(o.color, "bold", "ALERTS") : `ALERTS    ${paint(o.color, "green", "none")}`);
    const width = o.width;
    for (const a of m.alerts) {
      const one = alertLine(a, o.color);
      lines.push(...(width !== undefined && visibleLength(one) > width ? narrowAlertLines(a, o.color, width) : [one]));
    }
  }
  if (m.notes?.length) lines.push("", ...m.notes.map((n) => paint(o.color, "yellow", `  ${n}`)));
  if (o.view) lines.push("", paint(o.color, "dim", keyHelp(view)));
  const width = o.width;
  return `${(width ? lines.map((l) => cut(l, width)) : lines).join("\n")}\n`;
}

const ANSI_COLOR = new RegExp(`${C.reset[0]}\\[[0-9;]*m`, "g");

/** Characters a line takes on screen (ANSI colour codes take none). */
function visibleLength(line: string): number {
  return line.replace(ANSI_COLOR, "").length;
}

/** Cuts a line to `width` visible characters, keeping ANSI codes intact. */
function cut(line: string, width: number): string {
  let visible = 0;
  let out = "";
  for (let i = 0; i < line.length; i++) {
    if (line[i] === "\x1b") {
      const end = line.indexOf("m", i);
      if (end > 0) {
        out += line.slice(i, end + 1);
        i = end;
        continue;
      }
    }
    if (visible >= width) continue;
    out += line[i];
    visible++;
  }
  return out;
}

/** One line per instance for a pipe or log: `time target UP req/s=… 5xx=… p99=… … alerts=…`. */
export function renderLines(m: DashboardModel): string {
  const time = new Date(m.at).toISOString().slice(0, 19);
  const out: string[] = [];
  for (const v of m.instances) {
    const firing = m.alerts.filter((a) => a.instance === v.target && (a.state === "firing" || a.state === "resolving")).map((a) => a.rule);
    const tail = firing.length ? ` FIRING=${firing.join(",")}` : "";
    if (!v.up) {
      out.push(`${time}Z ${shortTarget(v.target)} DOWN error="${v.error ?? "no answer"}"${tail}`);
      continue;
    }
    const r = v.interval;
    const parts = [
      `${time}Z ${shortTarget(v.target)} ${v.phase === "running" ? "UP" : (v.phase ?? "UP").toUpperCase()}`,
      `req/s=${fmtRate(r?.requestsPerS)}`,
      `5xx=${fmtPct(r?.errorRatio)}`,
      `503/s=${r?.source === "status" ? "?" : fmtRate(r?.s503PerS)}`,
      `shed/s=${fmtRate(r?.shedPerS)}`,
      `p50=${fmtMs(r?.p50Ms)}`,
      `p99=${fmtMs(r?.p99Ms)}`,
      `workers=${v.workers.filter((w) => w.state === "ready").length}/${v.workers.length}`,
      `restarts=${v.totals ? v.totals.restarts : "-"}`,
      `rss=${fmtBytes(Math.max(0, ...v.workers.map((w) => w.rssBytes)))}`,
      `lag=${fmtMs(Math.max(0, ...v.workers.map((w) => w.eventLoopLagMs)))}`,
      `pool=${v.pool ? `${fmtPct(v.pool.utilization)}/wait${v.pool.waiting}` : "-"}`,
      `wal=${fmtBytes(v.sqlite?.walBytes)}`,
      `lockTO=${v.sqlite?.lockTimeoutsTotal ?? "-"}`,
      `admit=${v.admission ? `${v.admission.inflight}/${v.admission.limit}q${v.admission.queued}` : "-"}`,
    ];
    out.push(parts.join(" ") + tail);
    for (const e of v.newEvents ?? []) out.push(`${e.time.slice(0, 19)}Z ${shortTarget(v.target)} EVENT ${fmtEvent(e)}`);
  }
  if (m.instances.length > 1 && m.total) {
    const r = m.total;
    out.push(
      `${time}Z TOTAL req/s=${fmtRate(r.requestsPerS)} 5xx=${fmtPct(r.errorRatio)} 503/s=${fmtRate(r.s503PerS)} p50=${fmtMs(r.p50Ms)} p99=${fmtMs(r.p99Ms)}`,
    );
  }
  return `${out.join("\n")}\n`;
}
