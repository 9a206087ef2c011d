import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import type { AlertTransition } from "./types.js";
import { WebhookSender } from "./webhook.js";
import { parseWebhookTarget } from "./webhook-formats.js";

/** A real receiver that answers with the next status from `script` (then 200). */
async function receiver(script: number[] = []): Promise<{ url: string; bodies: unknown[]; hits: () => number; server: Server }> {
  const bodies: unknown[] = [];
  let hits = 0;
  const server = createServer((req, res) => {
    let data = "";
    req.on("data", (c) => {
      data += c;
    });
    req.on("end", () => {
      hits++;
      const status = script.shift() ?? 200;
      if (status === 200) bodies.push(JSON.parse(data));
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies, hits: () => hits, server };
}

const transition = (status: "firing" | "resolved"): AlertTransition => ({
  status,
  alert: {
    rule: "error-rate",
    instance: "http://a",
    state: status === "firing" ? "firing" : "inactive",
    severity: "critical",
    value: 0.2,
    threshold: 0.01,
    summary: "5xx 20%",
    since: "2026-01-01T00:00:00.000Z",
  },
});

describe("webhook delivery", () => {
  const servers: Server[] = [];
  after(() => {
    for (const s of servers) s.close();
  });

  it("retries a failing receiver with backoff and delivers firing then resolved in order", async () => {
    const r = await receiver([503, 500]);
    servers.push(r.server);
    const w = new WebhookSender([r.url], { attempts: 4, backoffMs: 20 });
    w.send([transition("firing")]);
    w.send([transition("resolved")]);
    await w.drain(5000);
    assert.equal(r.hits(), 4, "two failures, then two deliveries");
    assert.deepEqual(
      r.bodies.map((b) => (b as { status: string }).status),
      ["firing", "resolved"],
    );
    const first = r.bodies[0] as Record<string, unknown>;
    assert.equal(first.version, 1);
    assert.equal(first.source, "holdfast-monitor");
    assert.equal((first.alert as { rule: string }).rule, "error-rate");
    assert.deepEqual(w.stats, { delivered: 2, failed: 0, dropped: 0 });
  });

  it("gives up on a dead receiver after its attempts without holding up a live one", async () => {
    const live = await receiver();
    servers.push(live.server);
    const dead = await receiver();
    const deadUrl = dead.url;
    await new Promise((res) => dead.server.close(res));
    const problems: string[] = [];
    const w = new WebhookSender([deadUrl, live.url], { attempts: 3, backoffMs: 500, onProblem: (m) => problems.push(m) });
    w.send([transition("firing")]);
    while (live.bodies.length === 0 && w.stats.failed === 0) await new Promise((res) => setTimeout(res, 10));
    assert.equal(live.bodies.length, 1, "the live receiver got its POST");
    assert.equal(w.stats.failed, 0, "...while the dead one was still being retried (1.5 s of backoff)");
    await w.drain(10_000);
    assert.equal(w.stats.failed, 1);
    assert.match(problems[0], /ECONNREFUSED.*after 3 attempts.*monitoring continues/);
    assert.match(problems[0], /^webhook http:\/\/127\.0\.0\.1:\d+\/hook failed/);
  });

  it("never prints the secret part of a webhook URL", async () => {
    const problems: string[] = [];
    const w = new WebhookSender(["http://127.0.0.1:9/services/T000/B000/s3cr3t?token=abc"], { attempts: 1, onProblem: (m) => problems.push(m) });
    w.send([transition("firing")]);
    await w.drain(5000);
    assert.match(problems[0], /^webhook http:\/\/127\.0\.0\.1:9\/services\/… failed/);
    assert.ok(!problems[0].includes("s3cr3t") && !problems[0].includes("abc"));
  });

  it("does not retry a 4xx that retrying cannot fix", async () => {
    const r = await receiver([404]);
    servers.push(r.server);
    const w = new WebhookSender([r.url], { attempts: 4, backoffMs: 10 });
    w.send([transition("firing")]);
    await w.drain(2000);
    assert.equal(r.hits(), 1);
    assert.equal(w.stats.failed, 1);
  });
});

describe("webhook payload formats", () => {
  const servers: Server[] = [];
  after(() => {
    for (const s of servers) s.close();
  });

  it("sends each receiver its own format: holdfast JSON, Alertmanager webhook v4, Slack incoming-webhook", async () => {
    const own = await receiver();
    const am = await receiver();
    const slack = await receiver();
    servers.push(own.server, am.server, slack.server);
    const w = new WebhookSender([own.url, { url: am.url, format: "alertmanager" }, { url: slack.url, format: "slack" }], { attempts: 1, monitorHost: "ops-1" });
    const firing = transition("firing");
    firing.alert.firedAt = "2026-01-01T00:00:10.000Z";
    w.send([firing]);
    const resolved = transition("resolved");
    resolved.alert.firedAt = "2026-01-01T00:00:10.000Z";
    resolved.alert.resolvedAt = "2026-01-01T00:05:00.000Z";
    w.send([resolved]);
    await w.drain(5000);
    assert.deepEqual(w.stats, { delivered: 6, failed: 0, dropped: 0 });

    assert.equal((own.bodies[0] as { version: number }).version, 1);

    type Am = {
      version: string;
      status: string;
      receiver: string;
      groupKey: string;
      commonLabels: Record<string, string>;
      alerts: Array<{
        status: string;
        labels: Record<string, string>;
        annotations: Record<string, string>;
        startsAt: string;
        endsAt: string;
        fingerprint: string;
      }>;
    };
    const [amFiring, amResolved] = am.bodies as Am[];
    assert.equal(amFiring?.version, "4");
    assert.equal(amFiring?.status, "firing");
    assert.equal(amFiring?.receiver, "holdfast-monitor");
    assert.match(amFiring?.groupKey ?? "", /alertname="error-rate"/);
    assert.deepEqual(amFiring?.alerts[0]?.labels, { alertname: "error-rate", instance: "http://a", severity: "critical", job: "holdfast" });
    assert.equal(amFiring?.alerts[0]?.annotations.summary, "5xx 20%");
    assert.equal(amFiring?.alerts[0]?.annotations.value, "20%");
    assert.equal(amFiring?.alerts[0]?.startsAt, "2026-01-01T00:00:10.000Z");
    assert.equal(amFiring?.alerts[0]?.endsAt, "0001-01-01T00:00:00Z", "still firing: Alertmanager's zero time");
    assert.equal(amResolved?.status, "resolved");
    assert.equal(amResolved?.alerts[0]?.endsAt, "2026-01-01T00:05:00.000Z");
    assert.equal(amResolved?.alerts[0]?.fingerprint, amFiring?.alerts[0]?.fingerprint, "the same alert keeps its fingerprint");

    type Slack = { text: string; blocks: Array<{ type: string; text?: { type: string; text: string } }> };
    const [slFiring, slResolved] = slack.bodies as Slack[];
    assert.match(slFiring?.text ?? "", /^FIRING error-rate on http:\/\/a: 5xx 20%/);
    assert.equal(slFiring?.blocks[0]?.type, "section");
    assert.match(slFiring?.blocks[0]?.text?.text ?? "", /:red_circle: \*FIRING\* `error-rate` \(critical\)/);
    assert.match(slResolved?.text ?? "", /^RESOLVED error-rate/);
  });

  it("reads FORMAT=URL and rejects unknown formats and non-URLs by name", () => {
    assert.deepEqual(parseWebhookTarget("https://h/x"), { url: "https://h/x", format: "holdfast" });
    assert.deepEqual(parseWebhookTarget("slack=https://hooks.slack.com/services/T/B/x"), { url: "https://hooks.slack.com/services/T/B/x", format: "slack" });
    assert.deepEqual(parseWebhookTarget("Alertmanager=http://am:9093/hook"), { url: "http://am:9093/hook", format: "alertmanager" });
    assert.match(
      (parseWebhookTarget("pagerduty=https://x") as { error: string }).error,
      /unknown webhook format "pagerduty"; use one of holdfast, alertmanager, slack/,
    );
    assert.match((parseWebhookTarget("slack=not a url") as { error: string }).error, /is not an http\(s\) URL/);
  });
});
