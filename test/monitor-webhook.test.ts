// A live `holdfast monitor` POSTs firing and then resolved alerts to a real webhook receiver, keeps going
// while another webhook is dead, and reports instance-down when holdfast stops.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { CLI, eventually, FIXTURES, startHoldfast } from "./support/holdfast-process.js";
import { traffic } from "./support/traffic.js";

const APP = join(FIXTURES, "basic.mjs");

interface Payload {
  version: number;
  source: string;
  status: "firing" | "resolved";
  alert: {
    rule: string;
    instance: string;
    state: string;
    severity: string;
    value: number;
    threshold: number;
    summary: string;
    since: string;
    firedAt?: string;
    resolvedAt?: string;
  };
  sentAt: string;
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let d = "";
    req.on("data", (c) => {
      d += c;
    });
    req.on("end", () => resolve(d));
  });
}

test("webhook gets error-rate firing then resolved, a dead webhook does not stop monitoring, and instance-down fires when holdfast stops", async () => {
  const hf = await startHoldfast(APP, { workers: 2 });
  const received: Payload[] = [];
  const alertmanager: Array<{ version: string; status: string; alerts: Array<{ labels: Record<string, string> }> }> = [];
  const receiver = createServer(async (req, res) => {
    const text = await body(req);
    assert.equal(req.method, "POST");
    assert.match(String(req.headers["content-type"]), /application\/json/);
    if (req.url === "/am") alertmanager.push(JSON.parse(text));
    else received.push(JSON.parse(text) as Payload);
    res.writeHead(204).end();
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alerts`;
  // Nothing listens on port 9 of loopback: every POST there is refused and retried.
  const deadHook = "http://127.0.0.1:9/alerts";
  const mon = spawn(
    process.execPath,
    [
      CLI,
      "monitor",
      "--admin",
      hf.adminUrl,
      "--interval",
      "250ms",
      "--thresholds",
      "for=0s,resolveFor=750ms,window=1500ms,minRequests=5",
      "--alert-webhook",
      deadHook,
      "--alert-webhook",
      hook,
      // The same receiver, in Alertmanager's webhook shape (the format is chosen per webhook).
      "--alert-webhook",
      `alertmanager=${hook.replace(/\/alerts$/, "/am")}`,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  mon.stdout.on("data", (d) => {
    out += d;
  });
  mon.stderr.on("data", (d) => {
    err += d;
  });
  const has = (status: string, rule: string) => received.some((p) => p.status === status && p.alert.rule === rule);
  try {
    await traffic(hf.appUrl, ["/throw"], () => !has("firing", "error-rate"));
    const firing = await eventually(() => received.find((p) => p.status === "firing" && p.alert.rule === "error-rate"), 10_000, "error-rate firing POST");
    assert.equal(firing.version, 1);
    assert.equal(firing.source, "holdfast-monitor");
    assert.equal(firing.alert.instance, hf.adminUrl);
    assert.equal(firing.alert.severity, "critical");
    assert.ok(firing.alert.value > 0.5, `5xx share ${firing.alert.value}`);
    assert.equal(firing.alert.threshold, 0.01);
    assert.ok(firing.alert.firedAt);
    const am = await eventually(() => alertmanager.find((p) => p.status === "firing"), 5_000, "Alertmanager-shaped firing POST");
    assert.equal(am.version, "4");
    assert.equal(am.alerts[0]?.labels.alertname, "error-rate");
    assert.equal(am.alerts[0]?.labels.instance, hf.adminUrl);

    // Healthy traffic until the window slides past the 500s and resolveFor passes.
    await traffic(hf.appUrl, ["/"], () => !has("resolved", "error-rate"));
    const resolved = await eventually(() => received.find((p) => p.status === "resolved" && p.alert.rule === "error-rate"), 10_000, "error-rate resolved POST");
    assert.ok(resolved.alert.resolvedAt && resolved.alert.resolvedAt >= (firing.alert.firedAt ?? ""));
    assert.equal(received.filter((p) => p.alert.rule === "error-rate").length, 2, "exactly one firing and one resolved: no flapping");

    await hf.stop();
    await eventually(() => has("firing", "instance-down"), 10_000, "instance-down firing POST");
    await eventually(() => /webhook http:\/\/127\.0\.0\.1:9\/alerts failed/.test(err), 10_000, "dead webhook reported on stderr");
    assert.equal(mon.exitCode, null, "monitor still running after webhook failures and a dead instance");
    assert.match(out, /ALERT FIRING error-rate/);
    assert.match(out, /ALERT RESOLVED error-rate/);
    // The poll that finds it gone may meet the admin socket closing (reset, or closed by the other side
    // while the request was out) or already closed (refused).
    assert.match(out, /DOWN error="connection (refused|reset|closed)/);
  } finally {
    mon.kill("SIGINT");
    await new Promise((r) => mon.once("exit", r));
    receiver.close();
    await hf.stop();
  }
});
