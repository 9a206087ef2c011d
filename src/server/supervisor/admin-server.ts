/**
 * The admin endpoint, served by the supervisor (default 127.0.0.1:9464): /healthz,
 * /readyz, /status (JSON), /metrics (Prometheus text), /events (Server-Sent Events) and
 * / (a small live dashboard). monitor, doctor and load read this, never the workers.
 */
import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { METRICS_CONTENT_TYPE } from "../../telemetry/index.js";
import { serveDashboard } from "./admin-dashboard.js";
import { DashboardFeed, type FeedUpdate } from "./dashboard-feed.js";
import { portInUse } from "../start-errors.js";
import type { Supervisor } from "./supervisor.js";
import type { SupervisorEvent } from "./supervisor-state.js";

/** The /status document. */
export interface StatusDocument {
  instance: { pid: number; startedAt: string; uptimeS: number; phase: string; listen: { host: string; port: number }; version: string };
  ready: boolean;
  workers: Array<{
    id: number;
    pid: number;
    state: string;
    uptimeS: number;
    requests: number;
    inflight: number;
    rssBytes: number;
    eventLoopLagMs: number;
    restarts: number;
    lastHeartbeatMsAgo: number;
    oldest: { reqId: string; method: string; path: string; ageMs: number }[];
    db?: unknown;
    admission?: unknown;
    cache?: unknown;
  }>;
  counters: {
    requests: number;
    status: Record<string, number>;
    timeouts: number;
    crashes: number;
    restarts: number;
    recycles: number;
    reloads: number;
    shed: number;
  };
  events: SupervisorEvent[];
}

/** Builds the /status document from the supervisor's state. */
export function buildStatus(sup: Supervisor, version: string): StatusDocument {
  const now = Date.now();
  const recs = [...sup.slots.values()].sort((a, b) => a.slot - b.slot);
  // Includes the workers that have exited: a reload or a restart never sets these back.
  const { requests, status, shed } = sup.metrics.requestTotals([...recs, ...sup.retiring]);
  return {
    instance: {
      pid: process.pid,
      startedAt: new Date(sup.startedAt).toISOString(),
      uptimeS: Math.round((now - sup.startedAt) / 1000),
      phase: sup.phase,
      listen: { host: sup.config.host, port: sup.listenPort },
      version,
    },
    ready: isReady(sup),
    workers: recs.map((r) => ({
      id: r.slot,
      pid: r.pid,
      state: r.phase,
      uptimeS: Math.round((now - r.startedAt) / 1000),
      requests: r.stats?.requests ?? 0,
      inflight: r.stats?.inflight ?? 0,
      rssBytes: r.stats?.rssBytes ?? 0,
      eventLoopLagMs: r.stats?.eventLoopLagMs ?? 0,
      restarts: sup.restartsBySlot.get(r.slot) ?? 0,
      lastHeartbeatMsAgo: now - r.lastHeartbeat,
      oldest: r.stats?.oldest ?? [],
      db: r.stats?.db,
      admission: r.stats?.admission,
      cache: r.stats?.cache,
    })),
    counters: { requests, status, shed, ...sup.counters },
    events: sup.recent.slice(-50),
  };
}

function isReady(sup: Supervisor): boolean {
  return sup.phase === "running" && [...sup.slots.values()].some((r) => r.phase === "ready");
}

function authorized(req: IncomingMessage, token: string | undefined): boolean {
  if (!token) return true;
  const h = req.headers.authorization ?? "";
  const given = Buffer.from(h.startsWith("Bearer ") ? h.slice(7) : "");
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(text);
}

/** Starts the admin endpoint; resolves with the server once it listens. */
export async function startAdminServer(sup: Supervisor, version: string): Promise<Server> {
  const { host, port, token } = sup.config.admin;
  const feed = new DashboardFeed({
    status: () => buildStatus(sup, version),
    metrics: () => sup.metrics.text(sup.slots.values(), sup.retiring),
    events: () => sup.recent,
    // Through the supervisor's one event path, so the failure also shows on /status and /events.
    onError: (err) =>
      sup.emitEvent(
        "warn",
        "dashboard.sample.failed",
        { err: err.message },
        `the web dashboard could not take a sample (${err.message}); /status, /metrics and serving are not affected`,
      ),
  });
  const streams = new EventStreams(sup, version, feed);
  const server = createServer(async (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    // Probes stay unauthenticated so a load balancer can use them without the secret.
    if (path === "/healthz") return json(res, 200, { ok: true, phase: sup.phase });
    if (path === "/readyz") {
      const ready = isReady(sup);
      return json(res, ready ? 200 : 503, { ready, phase: sup.phase });
    }
    if (!authorized(req, token)) {
      res.writeHead(401, { "www-authenticate": 'Bearer realm="holdfast admin"', "content-type": "application/json" });
      res.end(JSON.stringify({ error: { code: "ADMIN_UNAUTHORIZED", message: "This admin endpoint needs Authorization: Bearer <admin.token>." } }));
      return;
    }
    try {
      if (path === "/status") return json(res, 200, buildStatus(sup, version));
      if (path === "/metrics") {
        const text = await sup.metrics.text(sup.slots.values(), sup.retiring);
        res.writeHead(200, { "content-type": METRICS_CONTENT_TYPE });
        return res.end(text);
      }
      if (path === "/events") return streams.add(req, res);
      if (path === "/history") return json(res, 200, feed.history());
      if (serveDashboard(path, res)) return;
      json(res, 404, { error: { code: "NOT_FOUND", message: `No admin route ${path}. Routes: /healthz /readyz /status /metrics /events /history /` } });
    } catch (err) {
      json(res, 500, { error: { code: "INTERNAL", message: (err as Error).message } });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => reject(err.code === "EADDRINUSE" ? portInUse("admin", host, port, err) : err));
    server.listen(port, host, () => resolve());
  });
  feed.start();
  server.once("close", () => {
    feed.stop();
    streams.close();
  });
  return server;
}

/**
 * The open /events streams. Each second's status and sample are serialised once and written
 * to every stream, so five open pages cost what one does plus the bytes.
 */
class EventStreams {
  readonly #open = new Set<ServerResponse>();
  readonly #sup: Supervisor;
  readonly #version: string;
  readonly #unsubscribe: () => void;
  readonly #onEvent = (e: SupervisorEvent) => {
    this.#broadcast(frame("supervisor", e));
    // A stream never ends by itself: end it with the last event, so shutdown can finish.
    if (e.event === "shutdown" && e.phase === "done") this.close();
  };

  constructor(sup: Supervisor, version: string, feed: DashboardFeed) {
    this.#sup = sup;
    this.#version = version;
    this.#unsubscribe = feed.subscribe((u: FeedUpdate) => {
      if (this.#open.size === 0) return;
      this.#broadcast(`${frame("status", u.status)}${frame("sample", { sample: u.sample, banner: u.banner, alerts: u.alerts })}`);
    });
  }

  /** Opens a stream: the current status at once, then every second's news. */
  add(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive", "x-accel-buffering": "no" });
    res.write(frame("status", buildStatus(this.#sup, this.#version)));
    if (this.#open.size === 0) this.#sup.on("event", this.#onEvent);
    this.#open.add(res);
    req.on("close", () => {
      this.#open.delete(res);
      if (this.#open.size === 0) this.#sup.off("event", this.#onEvent);
    });
  }

  /** Ends every stream (the admin server is closing). */
  close(): void {
    this.#unsubscribe();
    this.#sup.off("event", this.#onEvent);
    for (const res of this.#open) res.end();
    this.#open.clear();
  }

  #broadcast(chunk: string): void {
    for (const res of this.#open) res.write(chunk);
  }
}

function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
