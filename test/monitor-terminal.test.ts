// `holdfast monitor` on a real 80-column terminal (tmux): the tables fit without cutting a
// number, keys switch the panel and the worker order, and q quits with exit status 0.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { CLI, eventually, FIXTURES, startHoldfast } from "./support/holdfast-process.js";
import { requireBinary } from "./support/require-service.js";

test("on an 80-column terminal the monitor fits, answers keys and quits on q", async (t) => {
  const tmux = requireBinary(t, "tmux");
  if (!tmux) return;
  const hf = await startHoldfast(join(FIXTURES, "basic.mjs"), { workers: 2 });
  // A tmux server of its own, so the test never touches anyone's sessions.
  const socket = `hf-monitor-test-${process.pid}`;
  const tm = (...args: string[]) => spawnSync(tmux, ["-L", socket, ...args], { encoding: "utf8" });
  const screen = () => tm("capture-pane", "-p", "-t", "mon").stdout;
  try {
    const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} monitor --admin ${hf.adminUrl} --interval 500ms; echo "monitor exited $?"; sleep 60`;
    const started = tm("new-session", "-d", "-s", "mon", "-x", "80", "-y", "45", cmd);
    assert.equal(started.status, 0, started.stderr);
    for (let i = 0; i < 20; i++) await (await fetch(`${hf.appUrl}/`)).text();
    const first = await eventually(() => (/REQ\/S/.test(screen()) && /UP\s+\d/.test(screen()) ? screen() : undefined), 15_000, "the dashboard on screen");
    for (const line of first.split("\n")) assert.ok(line.length <= 80, `wider than 80: ${line}`);
    assert.match(first, /INSTANCE\s+STATE\s+REQ\/S\s+5XX%/);
    assert.match(first, /hidden to fit: /, "the dropped columns are named");
    assert.match(first, /q quit/);

    tm("send-keys", "-t", "mon", "2");
    await eventually(() => /panel: .*\(workers\)/.test(screen()), 5_000, "workers panel after 2");
    assert.doesNotMatch(screen(), /^ALERTS/m);
    tm("send-keys", "-t", "mon", "s");
    await eventually(() => /RSS↓/.test(screen()) && /sort \(rss\)/.test(screen()), 5_000, "workers by RSS after s");
    tm("send-keys", "-t", "mon", "q");
    await eventually(() => /monitor exited 0/.test(screen()), 5_000, "exit status 0 after q");
  } finally {
    tm("kill-server");
    await hf.stop();
  }
});
