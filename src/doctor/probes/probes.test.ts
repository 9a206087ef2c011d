import assert from "node:assert/strict";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { tempDir } from "../../../test/support/temp-dir.js";
import Database from "better-sqlite3";
import { probeAdmin } from "./admin.js";
import { probeSqlite } from "./sqlite.js";
import { parseNetstat, probeSystem } from "./system.js";

test("SQLite probe on a real file: journal mode, quick_check, WAL size, freelist", () => {
  const dir = tempDir("holdfast-doctor-probe-");
  const path = join(dir, "app.db");
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("wal_autocheckpoint = 0");
  db.exec("CREATE TABLE t (x TEXT)");
  const ins = db.prepare("INSERT INTO t VALUES (?)");
  for (let i = 0; i < 200; i++) ins.run("x".repeat(1000));
  const p = probeSqlite(path, 5000);
  db.close();
  assert.equal(p.journalMode, "wal");
  assert.equal(p.quickCheck, "ok");
  assert.ok((p.walBytes ?? 0) > 100_000, "uncheckpointed writes sit in the WAL");
  assert.equal(typeof p.freelistCount, "number");
  assert.throws(() => probeSqlite(join(dir, "missing.db")), /There is no SQLite database at .*missing\.db/);
});

test("system probe: disks where the files live, load, memory; netstat parsing", async () => {
  const p = await probeSystem([tmpdir()], 50);
  assert.ok(p.disks.length >= 1 && (p.disks[0]?.totalBytes ?? 0) > 0);
  assert.equal(p.load.length, 3);
  assert.ok(p.memTotal > 0);
  const net = parseNetstat("TcpExt: SyncookiesSent ListenOverflows ListenDrops\nTcpExt: 0 17 19\nIpExt: InNoRoutes\nIpExt: 0\n");
  assert.equal(net.ListenOverflows, 17);
  assert.equal(net.ListenDrops, 19);
});

test("admin probe: /status with a bearer token; 401 becomes a readable error", async () => {
  const status = {
    instance: { pid: 1 },
    workers: [{ id: 1, pid: 2, restarts: 3, db: { pool: { size: 10, busy: 9, max: 10, waiting: 2 } } }],
    counters: { requests: 5 },
  };
  const server = createServer((req, res) => {
    if (req.headers.authorization !== "Bearer 0123456789abcdef") {
      res.writeHead(401).end();
      return;
    }
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(req.url === "/status" ? status : {}));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  try {
    const a = await probeAdmin(url, "0123456789abcdef");
    assert.equal(a.status?.workers?.[0]?.restarts, 3);
    await assert.rejects(probeAdmin(url), /--admin-token/);
  } finally {
    server.close();
  }
});

test("per-process descriptors against the process's own limit", async () => {
  const { processFds } = await import("./system.js");
  const me = processFds(process.pid);
  assert.ok(me && me.open > 0 && me.limit >= me.open, JSON.stringify(me));
  assert.equal(processFds(2 ** 22 + 17), undefined, "no such process");
  const p = await probeSystem([tmpdir()], 10, [process.pid]);
  assert.equal(p.processFds?.[0]?.pid, process.pid);
});
