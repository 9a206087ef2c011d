// The "naive" stack: what most Node services run today. node:cluster with one worker per core,
// better-sqlite3 on the main thread (WAL, its default 5 s busy timeout, synchronous = NORMAL as
// holdfast sets it, so durability settings do not decide the comparison), Node's default HTTP
// timeouts, no admission control. The handlers answer exactly what examples/notes/app.js answers.
//   node bench/overload/naive-server.mjs <port> <db-file> [workers]
import cluster from "node:cluster";
import http from "node:http";
import Database from "better-sqlite3";

const [port, file, workers = "2"] = process.argv.slice(2);

if (cluster.isPrimary) {
  for (let i = 0; i < Number(workers); i++) cluster.fork();
  cluster.on("exit", () => cluster.fork());
  process.on("SIGTERM", () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill("SIGKILL");
    process.exit(0);
  });
} else {
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  const byId = db.prepare("SELECT * FROM notes WHERE id = ?");
  const list = db.prepare("SELECT * FROM notes ORDER BY id DESC LIMIT ?");
  const search = db.prepare("SELECT * FROM notes WHERE title LIKE ? ORDER BY id DESC LIMIT ?");
  const insert = db.prepare("INSERT INTO notes (title, body, done, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING *");
  const toNote = (r) => r && { id: Number(r.id), title: r.title, body: r.body, done: Boolean(r.done), createdAt: r.created_at, updatedAt: r.updated_at };
  const send = (res, status, body) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
    res.end(text);
  };
  http
    .createServer((req, res) => {
      const url = new URL(req.url, "http://local");
      const parts = url.pathname.split("/").filter(Boolean);
      try {
        if (parts[0] !== "api" || parts[1] !== "notes") return send(res, 404, { error: { code: "NOT_FOUND" } });
        if (parts[2] !== undefined && req.method === "GET") {
          const row = byId.get(Number(parts[2]));
          return row ? send(res, 200, { note: toNote(row) }) : send(res, 404, { error: { code: "NOT_FOUND" } });
        }
        if (parts[2] === undefined && req.method === "GET") {
          const limit = Math.min(100, Math.max(1, Number(url.searchParams.get("limit") ?? 20) || 20));
          const q = url.searchParams.get("q");
          return send(res, 200, { notes: (q ? search.all(`%${q}%`, limit) : list.all(limit)).map(toNote) });
        }
        if (parts[2] === undefined && req.method === "POST") {
          const chunks = [];
          req.on("data", (c) => chunks.push(c));
          req.on("end", () => {
            try {
              const input = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
              const now = new Date().toISOString();
              send(res, 201, { note: toNote(insert.get(String(input.title ?? "untitled"), String(input.body ?? ""), input.done ? 1 : 0, now, now)) });
            } catch (err) {
              send(res, 500, { error: { code: "INTERNAL", message: String(err) } });
            }
          });
          return;
        }
        send(res, 405, { error: { code: "METHOD_NOT_ALLOWED" } });
      } catch (err) {
        send(res, 500, { error: { code: "INTERNAL", message: String(err) } });
      }
    })
    .listen(Number(port), "127.0.0.1");
}
