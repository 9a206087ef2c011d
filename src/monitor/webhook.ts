/**
 * Delivers alert transitions to webhooks as JSON POSTs: one POST per transition, each retried
 * with exponential backoff a bounded number of times, from a bounded queue. Delivery never
 * blocks or stops the monitor; a webhook that keeps failing costs log lines, not monitoring.
 */
import type { AlertTransition } from "./types.js";
import { type WebhookFormat, type WebhookTarget, webhookBody } from "./webhook-formats.js";

/** Delivery settings. */
export interface WebhookOptions {
  /** Attempts per POST, first included. Default 4. */
  attempts?: number;
  /** First retry delay, ms; doubles each time. Default 500. */
  backoffMs?: number;
  /** Per-attempt timeout, ms. Default 5000. */
  timeoutMs?: number;
  /** Most undelivered POSTs kept; the oldest is dropped past it. Default 100. */
  maxQueue?: number;
  /** Where delivery problems are reported (one line each). */
  onProblem?: (message: string) => void;
  /** Host name put in payloads. */
  monitorHost?: string;
}

/**
 * A webhook URL as printed: chat webhooks carry their secret in the path or query
 * (hooks.slack.com/services/T…/B…/secret), so only the origin and the first path segment show.
 */
function shown(url: string): string {
  try {
    const u = new URL(url);
    const first = u.pathname.split("/").filter(Boolean)[0];
    const more = u.pathname.split("/").filter(Boolean).length > 1 || u.search ? "/…" : "";
    return `${u.origin}${first ? `/${first}` : ""}${more}`;
  } catch {
    return "(webhook)";
  }
}

/** One receiver's ordered queue, so a slow or dead webhook never delays the others. */
interface Lane {
  url: string;
  format: WebhookFormat;
  queue: string[];
  running: boolean;
}

/** Sends alert transitions to a set of webhook URLs. */
export class WebhookSender {
  readonly #lanes: Lane[];
  readonly #o: Required<Omit<WebhookOptions, "onProblem">> & Pick<WebhookOptions, "onProblem">;
  #idle: Array<() => void> = [];
  /** POSTs delivered, given up and dropped (queue full). */
  readonly stats = { delivered: 0, failed: 0, dropped: 0 };

  /** Creates a sender for `targets` (none = no-op); a bare URL gets holdfast's own format. */
  constructor(targets: readonly (string | WebhookTarget)[], o: WebhookOptions = {}) {
    this.#lanes = targets.map((t) => ({ ...(typeof t === "string" ? { url: t, format: "holdfast" as const } : t), queue: [], running: false }));
    this.#o = {
      attempts: o.attempts ?? 4,
      backoffMs: o.backoffMs ?? 500,
      timeoutMs: o.timeoutMs ?? 5000,
      maxQueue: o.maxQueue ?? 100,
      monitorHost: o.monitorHost ?? "",
      onProblem: o.onProblem,
    };
  }

  /** Queues one POST per webhook per transition; returns at once. */
  send(transitions: readonly AlertTransition[]): void {
    for (const t of transitions) {
      const now = new Date();
      const bodies = new Map<WebhookFormat, string>();
      for (const lane of this.#lanes) {
        let body = bodies.get(lane.format);
        if (body === undefined) {
          body = JSON.stringify(webhookBody(lane.format, t, this.#o.monitorHost, now));
          bodies.set(lane.format, body);
        }
        if (lane.queue.length >= this.#o.maxQueue) {
          lane.queue.shift();
          this.stats.dropped++;
          this.#o.onProblem?.(`webhook ${shown(lane.url)}: ${this.#o.maxQueue} alerts undelivered; dropped the oldest`);
        }
        lane.queue.push(body);
        this.#pump(lane);
      }
    }
  }

  /** Resolves when everything queued has been delivered or given up, or after `ms`. */
  async drain(ms: number): Promise<void> {
    if (this.#busy() === false) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.#idle.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  #busy(): boolean {
    return this.#lanes.some((l) => l.running || l.queue.length > 0);
  }

  #pump(lane: Lane): void {
    // One POST at a time per receiver keeps its firing/resolved in order.
    if (lane.running) return;
    const body = lane.queue.shift();
    if (body === undefined) {
      if (!this.#busy()) for (const f of this.#idle.splice(0)) f();
      return;
    }
    lane.running = true;
    void this.#deliver(lane.url, body).finally(() => {
      lane.running = false;
      this.#pump(lane);
    });
  }

  async #deliver(url: string, body: string): Promise<void> {
    let last = "";
    for (let attempt = 1; attempt <= this.#o.attempts; attempt++) {
      try {
        const r = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", "user-agent": "holdfast-monitor" },
          body,
          signal: AbortSignal.timeout(this.#o.timeoutMs),
        });
        await r.arrayBuffer().catch(() => undefined);
        if (r.ok) {
          this.stats.delivered++;
          return;
        }
        last = `HTTP ${r.status}`;
        // A 4xx other than 408/429 will not get better by retrying.
        if (r.status < 500 && r.status !== 408 && r.status !== 429) break;
      } catch (err) {
        const e = err as Error & { cause?: { code?: string } };
        last = e.name === "TimeoutError" ? `no answer within ${this.#o.timeoutMs} ms` : (e.cause?.code ?? e.message);
      }
      if (attempt < this.#o.attempts) await new Promise((r) => setTimeout(r, this.#o.backoffMs * 2 ** (attempt - 1)));
    }
    this.stats.failed++;
    this.#o.onProblem?.(`webhook ${shown(url)} failed (${last}) after ${this.#o.attempts} attempts; alert not delivered — monitoring continues`);
  }
}
