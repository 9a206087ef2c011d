// Fault suite: the disk under the log file fills up (a 512 KB tmpfs mounted by the test, then
// filled to its last few KB) while the notes demo serves traffic with every request logged.
// What must hold: requests keep being served (no crash, no worker replaced), and holdfast says
// once per process, on standard error, that it cannot write its log and why.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { startHoldfast } from "../support/holdfast-process.js";
import { dueAt, waitUntil } from "../support/paced.js";
import { missingService } from "../support/require-service.js";

const NOTES = new URL("../../examples/notes/app.js", import.meta.url).pathname;
const REQUESTS = 1500;
const PER_S = 150;

/** Mounts a small tmpfs (root only); undefined, with the reason, when this machine does not allow it. */
function mountTmpfs(dir: string, size: string): string | undefined {
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir], { encoding: "utf8" });
  return r.status === 0 ? undefined : (r.stderr || r.error?.message || `mount exited ${r.status}`).trim();
}

test("the disk under the log file is full: requests keep being served, and holdfast says so once per process", async (t) => {
  const mnt = mkdtempSync(join(tmpdir(), "hf-logfull-"));
  const why = mountTmpfs(mnt, "512k");
  if (why !== undefined) {
    rmSync(mnt, { recursive: true, force: true });
    missingService(t, `cannot mount a tmpfs here (${why}); run as root where mount is allowed`);
    return;
  }
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  let hf: Awaited<ReturnType<typeof startHoldfast>> | undefined;
  try {
    mkdirSync(join(mnt, "logs"));
    const logFile = join(mnt, "logs", "holdfast.log");
    hf = await startHoldfast(NOTES, { workers: 2, env: { HOLDFAST_LOG_FILE: logFile, HOLDFAST_LOG_REQUESTS: "all" } });
    const port = Number(new URL(hf.appUrl).port);
    const pids = (await hf.status()).workers.map((w) => w.pid).sort();
    // Fill the filesystem to its last few KB: the next log lines meet ENOSPC.
    const filler = join(mnt, "filler");
    for (let kb = 512; kb > 0; kb = Math.floor(kb / 2)) {
      try {
        writeFileSync(filler, Buffer.alloc(kb * 1024), { flag: "a" });
      } catch {
        // ENOSPC: try a smaller piece
      }
    }
    const statuses: number[] = [];
    const started = Date.now();
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      await waitUntil(dueAt(started, i, PER_S));
      const body = i % 4 === 0 ? JSON.stringify({ title: `note ${i}` }) : undefined;
      inflight.push(
        new Promise<void>((resolve) => {
          const req = httpRequest(
            {
              host: "127.0.0.1",
              port,
              path: body ? "/api/notes" : "/api/notes?limit=5",
              method: body ? "POST" : "GET",
              agent,
              timeout: 10_000,
              headers: body ? { "content-type": "application/json" } : {},
            },
            (res) => {
              res.resume();
              res.on("end", () => {
                statuses.push(res.statusCode ?? 0);
                resolve();
              });
            },
          );
          req.on("timeout", () => req.destroy());
          req.on("error", () => {
            statuses.push(0);
            resolve();
          });
          req.end(body);
        }),
      );
    }
    await Promise.all(inflight);
    const ok = statuses.filter((s) => s >= 200 && s < 300).length;
    const after = await hf.status();
    const stderr = hf.stderr();
    const complaints = stderr.split("\n").filter((l) => /ENOSPC|no space left|disk (is )?full/i.test(l));
    const df = spawnSync("df", ["-k", mnt], { encoding: "utf8" }).stdout.trim().split("\n").at(-1);
    console.log(
      `[log-disk-full] ${ok}/${statuses.length} requests 2xx with the log's filesystem full (${df}); ` +
        `workers replaced: ${JSON.stringify(after.workers.map((w) => w.pid).sort()) !== JSON.stringify(pids)}; ` +
        `complaints on stderr: ${complaints.length} (${complaints[0]?.slice(0, 200) ?? "none"})`,
    );
    assert.equal(ok, statuses.length, "every request answered 2xx");
    assert.deepEqual(after.workers.map((w) => w.pid).sort(), pids, "no worker died or was replaced");
    assert.ok(complaints.length >= 1, "holdfast said on stderr that the log cannot be written");
    assert.ok(complaints.length <= 3, `said once per process (supervisor + 2 workers), not per line: ${complaints.length} lines`);
  } finally {
    agent.destroy();
    await hf?.stop();
    spawnSync("umount", [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  }
});
