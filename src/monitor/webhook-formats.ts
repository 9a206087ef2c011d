/**
 * The payload shapes a webhook can get, chosen per webhook: holdfast's own JSON, the
 * Alertmanager webhook (version 4, what Alertmanager itself POSTs to its webhook receivers, so
 * tools written for it work unchanged) and a Slack incoming-webhook message. Pure: a transition
 * in, a JSON body out.
 */
import { createHash } from "node:crypto";
import type { AlertTransition } from "./types.js";

/** Payload formats, as written before `=` in `--alert-webhook FORMAT=URL`. */
export const WEBHOOK_FORMATS = ["holdfast", "alertmanager", "slack"] as const;
/** One of {@link WEBHOOK_FORMATS}. */
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** A webhook and the format it wants. */
export interface WebhookTarget {
  url: string;
  format: WebhookFormat;
}

/** holdfast's own JSON body. */
export interface WebhookPayload {
  /** Payload format version. */
  version: 1;
  source: "holdfast-monitor";
  /** "firing" when an alert starts, "resolved" when it ends. */
  status: "firing" | "resolved";
  alert: AlertTransition["alert"];
  /** Host the monitor ran on. */
  monitorHost: string;
  sentAt: string;
}

/** Alertmanager's "zero time": what it sends as endsAt for an alert still firing. */
const ZERO_TIME = "0001-01-01T00:00:00Z";

function formatValue(rule: string, v: number | undefined): string {
  if (v === undefined) return "";
  if (rule === "error-rate" || rule === "pool-utilization") return `${Math.round(v * 1000) / 10}%`;
  if (rule === "p99-latency") return `${Math.round(v)}ms`;
  return String(v);
}

/** `--alert-webhook` value → target: `URL` (holdfast format) or `FORMAT=URL`; undefined when the format is unknown. */
export function parseWebhookTarget(raw: string): WebhookTarget | { error: string } {
  const m = /^([a-z]+)=(.+)$/i.exec(raw);
  const format = (m ? m[1]?.toLowerCase() : "holdfast") as WebhookFormat;
  const url = m ? (m[2] as string) : raw;
  if (!WEBHOOK_FORMATS.includes(format))
    return { error: `unknown webhook format "${m?.[1]}"; use one of ${WEBHOOK_FORMATS.join(", ")} (e.g. slack=https://hooks.slack.com/services/…)` };
  try {
    const u = new URL(url);
    if (u.protocol === "http:" || u.protocol === "https:") return { url, format };
  } catch {}
  return { error: `${JSON.stringify(raw)} is not an http(s) URL (optionally after FORMAT=, FORMAT one of ${WEBHOOK_FORMATS.join(", ")})` };
}

/** The JSON body for one transition in the given format. */
export function webhookBody(format: WebhookFormat, t: AlertTransition, monitorHost: string, now = new Date()): unknown {
  const a = t.alert;
  if (format === "alertmanager") {
    const labels = { alertname: a.rule, instance: a.instance, severity: a.severity, job: "holdfast" };
    const annotations = { summary: a.summary, value: formatValue(a.rule, a.value), threshold: formatValue(a.rule, a.threshold), monitor_host: monitorHost };
    return {
      version: "4",
      groupKey: `{}:{alertname="${a.rule}", instance="${a.instance}"}`,
      truncatedAlerts: 0,
      status: t.status,
      receiver: "holdfast-monitor",
      groupLabels: { alertname: a.rule, instance: a.instance },
      commonLabels: labels,
      commonAnnotations: annotations,
      externalURL: a.instance,
      alerts: [
        {
          status: t.status,
          labels,
          annotations,
          startsAt: a.firedAt ?? a.since,
          endsAt: t.status === "resolved" ? (a.resolvedAt ?? now.toISOString()) : ZERO_TIME,
          generatorURL: a.instance,
          fingerprint: createHash("sha256").update(`${a.rule}\0${a.instance}`).digest("hex").slice(0, 16),
        },
      ],
    };
  }
  if (format === "slack") {
    const firing = t.status === "firing";
    const icon = firing ? (a.severity === "critical" ? ":red_circle:" : ":large_orange_circle:") : ":large_green_circle:";
    const head = `${icon} *${firing ? "FIRING" : "RESOLVED"}* \`${a.rule}\` (${a.severity}) on ${a.instance}`;
    const when = firing ? `since ${a.firedAt ?? a.since}` : `resolved ${a.resolvedAt ?? now.toISOString()}`;
    return {
      text: `${firing ? "FIRING" : "RESOLVED"} ${a.rule} on ${a.instance}: ${a.summary}`,
      blocks: [
        { type: "section", text: { type: "mrkdwn", text: `${head}\n${a.summary}` } },
        { type: "context", elements: [{ type: "mrkdwn", text: `holdfast monitor on ${monitorHost || "?"} · ${when}` }] },
      ],
    };
  }
  const body: WebhookPayload = { version: 1, source: "holdfast-monitor", status: t.status, alert: a, monitorHost, sentAt: now.toISOString() };
  return body;
}
