import assert from "node:assert/strict";
import { test } from "node:test";
import { collectLines, emptyDataset, sortDataset } from "../collect.js";
import type { AppRecord } from "../types.js";
import { parseAppLine } from "./app-log.js";
import { AppLineGrouper } from "./app-lines.js";

/** Groups lines as collect.ts does and parses each event. */
function events(text: string): { rec: AppRecord | null; line: number; lines: number }[] {
  const out: { rec: AppRecord | null; line: number; lines: number }[] = [];
  const g = new AppLineGrouper((t, line, lines) => out.push({ rec: parseAppLine(t), line, lines }));
  for (const [i, l] of text.split("\n").entries()) g.push(l, i + 1);
  g.flush();
  return out;
}

const FLASK = `[2026-11-24 14:02:04,001] INFO in app: order 17 created
[2026-11-24 14:02:05,120] ERROR in app: Exception on /api/orders [POST]
Traceback (most recent call last):
  File "/srv/venv/lib/python3.11/site-packages/flask/app.py", line 1463, in wsgi_app
    response = self.full_dispatch_request()
               ^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/srv/app/app.py", line 42, in create_order
    db.execute("INSERT INTO orders (item) VALUES (?)", (item,))
sqlite3.OperationalError: database is locked
127.0.0.1 - - [24/Nov/2026 14:02:05] "POST /api/orders HTTP/1.1" 500 -`;

test("a Python traceback is one event with the logging line's time, the request, the exception and its message", () => {
  const ev = events(FLASK);
  assert.equal(ev.length, 3);
  const [info, err, access] = ev;
  assert.equal(info?.rec?.event, "log");
  assert.equal(err?.line, 2);
  assert.equal(err?.lines, 8);
  assert.equal(err?.rec?.event, "db.locked");
  assert.equal(err?.rec?.time, new Date(2026, 10, 24, 14, 2, 5, 120).getTime(), "no zone written: local time");
  assert.equal(err?.rec?.zoneless, true);
  assert.equal(err?.rec?.method, "POST");
  assert.equal(err?.rec?.path, "/api/orders");
  assert.equal(err?.rec?.fields.exception, "sqlite3.OperationalError");
  assert.equal(err?.rec?.fields.message, "database is locked");
  assert.equal(err?.rec?.fields.language, "python");
  assert.equal(access?.rec?.event, "request");
  assert.equal(access?.rec?.fields.status, 500);
});

test("a Spring/HikariCP stack trace (blank line, tabs, Caused by) is one pool.timeout with the stated wait", () => {
  const text = `2026-11-24T14:02:06.118Z ERROR 4242 --- [nio-8080-exec-7] o.a.c.c.C.[.[.[/].[dispatcherServlet]    : Servlet.service() for servlet [dispatcherServlet] threw exception [Request processing failed: org.springframework.transaction.CannotCreateTransactionException: Could not open JPA EntityManager for transaction] with root cause

java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, request timed out after 30005ms (total=10, active=10, idle=0, waiting=12)
\tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:686) ~[HikariCP-5.0.1.jar!/:na]
\tat com.zaxxer.hikari.pool.HikariPool.getConnection(HikariPool.java:179) ~[HikariCP-5.0.1.jar!/:na]
\t... 57 common frames omitted
2026-11-24T14:02:06.300Z  INFO 4242 --- [nio-8080-exec-2] c.e.shop.OrderController : order 18 created`;
  const ev = events(text);
  assert.equal(ev.length, 2);
  const r = ev[0]?.rec;
  assert.equal(r?.event, "pool.timeout");
  assert.equal(r?.origin, "hikari");
  assert.equal(r?.time, Date.parse("2026-11-24T14:02:06.118Z"));
  assert.equal(r?.fields.timeoutMs, 30005);
  assert.equal(r?.fields.language, "java");
  assert.equal(r?.fields.exception, "java.sql.SQLTransientConnectionException");
  assert.equal(ev[1]?.rec?.level, "info");
});

test("a Node stack (knex) and a Rails backtrace are one event each", () => {
  const node = events(`2026-11-24T14:02:07.001Z error: request failed POST /api/orders
KnexTimeoutError: Knex: Timeout acquiring a connection. The pool is probably full. Are you missing a .transacting(trx) call?
    at Client_PG.acquireConnection (/srv/app/node_modules/knex/lib/client.js:332:26)
    at async Runner.ensureConnection (/srv/app/node_modules/knex/lib/execution/runner.js:305:28)`);
  assert.equal(node.length, 1);
  assert.equal(node[0]?.rec?.event, "pool.timeout");
  assert.equal(node[0]?.rec?.origin, "knex");
  assert.equal(node[0]?.rec?.fields.language, "node");
  assert.equal(node[0]?.rec?.fields.exception, "KnexTimeoutError");
  assert.equal(node[0]?.rec?.path, "/api/orders");
  const rails =
    events(`E, [2026-11-24T14:02:09.512345 #4242] ERROR -- : [5f1c2a] ActiveRecord::ConnectionTimeoutError (could not obtain a connection from the pool within 5.000 seconds (waited 5.001 seconds); all pooled connections were in use):
activerecord (7.1.2) lib/active_record/connection_adapters/abstract/connection_pool.rb:211:in \`block in wait_poll'
actionpack (7.1.2) lib/action_controller/metal.rb:227:in \`dispatch'`);
  assert.equal(rails.length, 1);
  assert.equal(rails[0]?.rec?.event, "pool.timeout");
  assert.equal(rails[0]?.rec?.origin, "activerecord");
  assert.equal(rails[0]?.rec?.fields.timeoutMs, 5000);
  assert.equal(rails[0]?.rec?.level, "error");
});

test("gunicorn, uWSGI and Puma worker lines", () => {
  const ev = events(`[2026-11-24 14:02:03 +0000] [4100] [CRITICAL] WORKER TIMEOUT (pid:4121)
[2026-11-24 14:02:03 +0000] [4121] [INFO] Worker exiting (pid: 4121)
Sun Nov 24 14:02:10 2026 - *** HARAKIRI ON WORKER 2 (pid: 4243, try: 1) ***
[4242] ! Terminating timed out worker (Worker 1 failed to check in within 60 seconds): 4250`);
  assert.deepEqual(
    ev.map((e) => [e.rec?.event, e.rec?.origin, e.rec?.fields.workerPid]),
    [
      ["worker.timeout", "gunicorn", 4121],
      ["log", "text", undefined],
      ["worker.timeout", "uwsgi", 4243],
      ["worker.timeout", "puma", 4250],
    ],
  );
  assert.equal(ev[0]?.rec?.time, Date.UTC(2026, 10, 24, 14, 2, 3));
});

test("JSON loggers: pino, winston, bunyan, structlog, python-json-logger and lograge, with their time and level", () => {
  const lines = [
    '{"level":50,"time":1795528938000,"pid":1,"hostname":"web1","req":{"id":"r-1","method":"POST","url":"/api/orders?x=1"},"err":{"type":"KnexTimeoutError","message":"Knex: Timeout acquiring a connection. The pool is probably full.","stack":"KnexTimeoutError: Knex: Timeout acquiring a connection.\\n    at Client_PG.acquireConnection (/srv/app/node_modules/knex/lib/client.js:332:26)"},"msg":"request failed"}',
    '{"level":"error","message":"timeout exceeded when trying to connect","stack":"Error: timeout exceeded when trying to connect\\n    at /srv/app/node_modules/pg-pool/index.js:45:11","timestamp":"2026-11-24T14:02:07.001Z"}',
    '{"name":"shop","hostname":"web1","pid":42,"level":50,"err":{"message":"SQLITE_BUSY: database is locked","name":"Error","stack":"Error: SQLITE_BUSY: database is locked","code":"SQLITE_BUSY"},"msg":"insert failed","time":"2026-11-24T14:02:05.120Z","v":0}',
    '{"event":"database is locked","level":"error","timestamp":"2026-11-24T14:02:05.120Z","method":"POST","path":"/api/orders","exception":"Traceback (most recent call last):\\n  File \\"/srv/app/app.py\\", line 42, in create_order\\nsqlite3.OperationalError: database is locked"}',
    '{"asctime":"2026-11-24 14:02:05,120","levelname":"ERROR","name":"app","message":"Exception on /api/orders [POST]","exc_info":"Traceback (most recent call last):\\n  File \\"/srv/app/app.py\\", line 42, in create_order\\nsqlite3.OperationalError: database is locked"}',
    '{"method":"POST","path":"/api/orders","format":"json","controller":"OrdersController","action":"create","status":500,"duration":5004.12,"db":5001.3,"time":"2026-11-24T14:02:09.512Z","level":"error","error":"ActiveRecord::ConnectionTimeoutError: could not obtain a connection from the pool within 5.000 seconds (waited 5.001 seconds); all pooled connections were in use"}',
    '{"method":"GET","path":"/api/items","format":"json","status":200,"duration":12.1,"time":"2026-11-24T14:02:09.600Z"}',
  ];
  const r = lines.map((l) => parseAppLine(l));
  assert.deepEqual(
    r.map((x) => x?.event),
    ["pool.timeout", "pool.timeout", "db.locked", "db.locked", "db.locked", "pool.timeout", "request"],
  );
  assert.deepEqual(
    r.map((x) => x?.level),
    ["error", "error", "error", "error", "error", "error", undefined],
  );
  assert.equal(r[0]?.time, 1795528938000);
  assert.equal(r[0]?.reqId, "r-1");
  assert.equal(r[0]?.path, "/api/orders");
  assert.equal(r[0]?.origin, "knex");
  assert.equal(r[1]?.origin, "pg");
  assert.equal(r[1]?.time, Date.parse("2026-11-24T14:02:07.001Z"));
  assert.equal(r[3]?.path, "/api/orders", "structlog: `event` is the message, not a holdfast event name");
  assert.equal(r[3]?.fields.language, "python");
  assert.equal(r[4]?.zoneless, true);
  assert.equal(r[4]?.method, "POST");
  assert.equal(r[5]?.origin, "activerecord");
  assert.equal(r[5]?.fields.timeoutMs, 5000);
  assert.equal(r[6]?.fields.status, 200);
});

test("collect: a traceback is kept as one event; its lines are not unreadable", () => {
  const d = emptyDataset();
  const stats = collectLines(d, "app", FLASK.split("\n"), "app.log");
  sortDataset(d);
  assert.equal(stats.garbage, 0);
  const locked = d.appEvents.filter((e) => e.record.event === "db.locked");
  assert.equal(locked.length, 1);
  assert.equal(locked[0]?.line, 2);
  assert.match(locked[0]?.text ?? "", /Traceback[\s\S]*database is locked/);
});

test("supervisor exits, gunicorn's signal line, a stated request time, and an untimed crash dump taking the last time", () => {
  const d = emptyDataset();
  collectLines(d, "app", [
    "2026-11-29T16:49:45.280Z info sessions[8167]: 50 sessions, heap used 30 MB",
    "<--- JS stacktrace --->",
    "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
    " 1: 0xb78db3 node::OOMErrorHandler(char const*, v8::OOMDetails const&) [/usr/bin/node]",
    "2026-11-29T16:49:46Z supervisor: sessions exited with status 134, restarting in 2 s",
    "2026-11-29T16:49:48.641Z info sessions[8647]: listening on 127.0.0.1:36777",
    "[2026-11-29 16:50:31 +0000] [10364] [WARNING] Worker with pid 10404 was terminated due to signal 9",
    "2026-11-29 16:51:33,499+0000 ERROR [Thread-8] items: POST /api/items/1/reserve failed after 20 ms",
  ]);
  sortDataset(d);
  const by = (ev: string) => d.appEvents.filter((e) => e.record.event === ev).map((e) => e.record);
  const oom = by("memory.oom")[0];
  assert.equal(oom?.time, Date.parse("2026-11-29T16:49:45.280Z"), "the dump has no time: it takes the last timed line's");
  assert.equal(oom?.fields.timeInferred, true);
  const exits = by("worker.exit");
  assert.deepEqual(
    exits.map((e) => [e.origin, e.fields.code, e.fields.signal]),
    [
      ["supervisor", 134, undefined],
      ["gunicorn", undefined, "SIGKILL"],
    ],
  );
  assert.equal(by("worker.start").length, 1);
  const r = parseAppLine(
    "2026-11-29 16:51:33,499+0000 ERROR [Thread-8] items: POST /api/items/1/reserve failed after 20 ms\nsqlite3.OperationalError: database is locked",
  );
  assert.equal(r?.event, "db.locked");
  assert.equal(r?.fields.requestMs, 20);
  assert.equal(r?.startedAt, Date.parse("2026-11-29T16:51:33.479Z"));
});

/** Reads app-log lines as collect.ts does and asserts none was unreadable. */
function readAll(lines: string[]): { d: ReturnType<typeof emptyDataset>; stats: ReturnType<typeof collectLines> } {
  const d = emptyDataset();
  const stats = collectLines(d, "app", lines, "app.log");
  assert.equal(stats.garbage, 0, JSON.stringify(stats.garbageSamples));
  return { d, stats };
}

/** knex warns with tarn's stack when an acquire times out, then throws; the app logs its own line for the same failure. */
const KNEX = `2026-11-29T17:20:35.272Z INFO catalog: listening on 127.0.0.1:34333, pool max 2
Acquire connection error: Error: operation timed out for an unknown reason
    at /srv/app/node_modules/tarn/dist/PendingOperation.js:18:27
    at async Client_PG.acquireConnection (/srv/app/node_modules/knex/lib/client.js:465:26)
2026-11-29T17:20:44.908Z ERROR catalog: GET /api/products failed: Knex: Timeout acquiring a connection. The pool is probably full.
KnexTimeoutError: Knex: Timeout acquiring a connection. The pool is probably full.
    at Client_PG.acquireConnection (/srv/app/node_modules/knex/lib/client.js:493:26)
Acquire connection error: Error: operation timed out for an unknown reason
    at /srv/app/node_modules/tarn/dist/PendingOperation.js:18:27
2026-11-29T17:20:50.000Z INFO catalog: still serving`;

test("knex's untimed 'Acquire connection error' (tarn's stack) is a pool timeout timed by the next line, never unreadable", () => {
  const { d } = readAll(KNEX.split("\n"));
  const pool = d.appEvents.filter((e) => e.record.event === "pool.timeout");
  // The first warning is the app's next line's failure: folded into it, not counted twice.
  assert.equal(pool.length, 2);
  assert.equal(pool[0]?.record.fields.libraryWarnings, 1);
  // The second has no app line of its own: an event at the next timed line's time, marked inferred.
  assert.equal(pool[1]?.record.time, Date.parse("2026-11-29T17:20:50.000Z"));
  assert.equal(pool[1]?.record.fields.timeInferred, "next line");
});

/** Python's socketserver: dashes around a handler error that escaped while answering a closed connection. */
const SOCKETSERVER = `2026-11-29 11:55:14,561 ERROR [Thread-11] items: POST /api/items failed
Traceback (most recent call last):
  File "/srv/app/items.py", line 140, in do_POST
sqlite3.OperationalError: database is locked
127.0.0.1 - - [29/Nov/2026 11:55:14] "POST /api/items HTTP/1.1" 500 -
----------------------------------------
Exception occurred during processing of request from ('127.0.0.1', 32986)
Traceback (most recent call last):
  File "/srv/app/items.py", line 140, in do_POST
sqlite3.OperationalError: database is locked

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/usr/lib/python3.11/socketserver.py", line 834, in write
ConnectionResetError: [Errno 104] Connection reset by peer
----------------------------------------`;

test("socketserver's handler error is the closed connection it died of, not a second lock error; its dashes are not unreadable", () => {
  const { d } = readAll(SOCKETSERVER.split("\n"));
  assert.deepEqual(
    d.appEvents.map((e) => e.record.event),
    ["db.locked", "request", "peer.closed"],
  );
  assert.equal(d.appEvents[2]?.record.fields.during, "sqlite3.OperationalError");
});

test("V8's heap-exhaustion banners and native frames belong to the dump, not to unreadable lines", () => {
  const lines = [
    "2026-11-29T16:57:09.592Z info sessions[2937]: 50 sessions, heap used 30 MB",
    "",
    "<--- Last few GCs --->",
    "[2937:0x34136d40]     6269 ms: Mark-Compact (reduce) 31.4 (33.3) -> 31.3 (33.3) MB, 0.99 / 0.00 ms",
    "<--- JS stacktrace --->",
    "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
    "----- Native stack trace -----",
    " 1: 0xb78db3 node::OOMErrorHandler(char const*, v8::OOMDetails const&) [/usr/bin/node]",
    "10: 0x10b9821 v8::internal::FactoryBase<v8::internal::Factory>::NewFixedDoubleArray(int) [/usr/bin/node]",
    "Aborted",
  ];
  const { d } = readAll(lines);
  assert.equal(d.appEvents.filter((e) => e.record.event === "memory.oom").length, 1);
});

test("a socketserver handler error cut short by another thread's line is still an app error, not an unreadable line", () => {
  const lines = [
    '127.0.0.1 - - [29/Nov/2026 16:55:29] "GET /api/report HTTP/1.1" 200 -',
    "----------------------------------------",
    "Exception occurred during processing of request from ('127.0.0.1', 42218)",
    "Traceback (most recent call last):",
    '127.0.0.1 - - [29/Nov/2026 16:55:29] "GET /healthz HTTP/1.1" 200 -',
    '  File "/usr/lib/python3.11/socketserver.py", line 834, in write',
    "BrokenPipeError: [Errno 32] Broken pipe",
  ];
  const { d } = readAll(lines);
  assert.equal(d.appEvents.filter((e) => e.record.level === "error").length, 1);
});

test("holdfast's own start-up lines and http.server's refused-request lines are read, not unreadable", () => {
  const lines = [
    "holdfast: warning: SQLite busy timeout 5s is not below the request deadline 1500ms: a locked write can use the whole request budget.",
    '  fix: db: { sqlite: { busyTimeout: "250ms" } }',
    "holdfast: serving app/export.mjs with 2 workers",
    "  app:   http://127.0.0.1:36981/",
    "127.0.0.1 - - [29/Nov/2026 16:56:29] code 400, message Bad request syntax ('{\"qty\":1}')",
    '127.0.0.1 - - [29/Nov/2026 16:56:29] "{"qty":1}" 400 -',
  ];
  const { d, stats } = readAll(lines);
  assert.equal(stats.notices, 2);
  assert.equal(d.appRequests, 1);
});
