// The holdfast demo service: a small notes JSON API with an HTML page, on the database
// holdfast opens for it (embedded SQLite by default: sqlite:./data/app.db) and its cache
// (memory per worker by default). Run it with `npm start`, or `holdfast serve examples/notes/app.js`.
// On the shared engines, by configuration alone (docs/scaling.md):
//   HOLDFAST_DB_URL=postgres://127.0.0.1:5432/app HOLDFAST_CACHE_URL=redis://127.0.0.1:6379/0 npm start
import { readFileSync } from "node:fs";
import { defineApp, sql } from "holdfast";

const PAGE = readFileSync(new URL("./index.html", import.meta.url));
const MAX_BODY = 64 * 1024;

class HttpError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req) {
  const type = req.headers["content-type"] ?? "";
  if (!type.startsWith("application/json")) throw new HttpError(415, "UNSUPPORTED_MEDIA_TYPE", "Send the note as JSON with Content-Type: application/json.");
  let size = 0;
  const chunks = [];
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpError(413, "PAYLOAD_TOO_LARGE", `A note is at most ${MAX_BODY} bytes of JSON.`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
  } catch {
    throw new HttpError(400, "INVALID_JSON", "The request body is not valid JSON.");
  }
}

function validNote(input, partial) {
  if (typeof input !== "object" || input === null || Array.isArray(input))
    throw new HttpError(400, "INVALID_NOTE", 'A note is a JSON object: { "title": string, "body"?: string, "done"?: boolean }.');
  const out = {};
  if (input.title !== undefined || !partial) {
    if (typeof input.title !== "string" || input.title.trim() === "" || input.title.length > 200)
      throw new HttpError(400, "INVALID_NOTE", "title must be a non-empty string of at most 200 characters.");
    out.title = input.title.trim();
  }
  if (input.body !== undefined) {
    if (typeof input.body !== "string" || input.body.length > 10_000)
      throw new HttpError(400, "INVALID_NOTE", "body must be a string of at most 10000 characters.");
    out.body = input.body;
  }
  if (input.done !== undefined) {
    if (typeof input.done !== "boolean") throw new HttpError(400, "INVALID_NOTE", "done must be true or false.");
    out.done = input.done;
  }
  return out;
}

const toNote = (r) => r && { id: Number(r.id), title: r.title, body: r.body, done: Boolean(r.done), createdAt: r.created_at, updatedAt: r.updated_at };

// Creates the schema. Several instances (and every worker of each) run this at the same start;
// on PostgreSQL two concurrent CREATE TABLE IF NOT EXISTS can both miss the table and one then
// fails on a duplicate type, so the whole migration runs under a transaction-scoped advisory
// lock: the first holder creates, the others wait, then find everything in place. SQLite has
// one writer by design (BEGIN IMMEDIATE), which serialises the same way.
const SCHEMA_LOCK = 72_616_001; // any constant unique to this app's migrations

export async function migrate(db) {
  await db.transaction(async (tx) => {
    if (db.dialect === "postgres") await tx.run(`SELECT pg_advisory_xact_lock(${SCHEMA_LOCK})`);
    await tx.run(`CREATE TABLE IF NOT EXISTS notes (
      id INTEGER PRIMARY KEY ${db.dialect === "postgres" ? "GENERATED ALWAYS AS IDENTITY" : "AUTOINCREMENT"},
      title TEXT NOT NULL,
      body TEXT NOT NULL DEFAULT '',
      done INTEGER NOT NULL DEFAULT 0,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    )`);
    await tx.run("CREATE INDEX IF NOT EXISTS notes_updated ON notes (updated_at)");
  });
}

export default defineApp(async ({ db, cache, log, config }) => {
  await migrate(db);
  // Only a shared cache (Redis) can be invalidated for every worker at once; a per-worker memory
  // cache would serve a note another worker just changed until its TTL ran out.
  const sharedCache = config.cache.url !== "memory:";
  // NOTES_SEED=50000 fills an empty table, for load tests on a realistic size.
  const seed = Number(process.env.NOTES_SEED ?? 0);
  if (seed > 0 && process.env.HOLDFAST_WORKER_ID === "1") {
    const row = await db.get("SELECT COUNT(*) AS n FROM notes");
    if (Number(row?.n ?? 0) === 0) {
      const now = new Date().toISOString();
      for (let i = 0; i < seed; i += 1000) {
        const batch = [];
        for (let j = i; j < Math.min(seed, i + 1000); j++)
          batch.push(
            sql`INSERT INTO notes (title, body, done, created_at, updated_at) VALUES (${`note ${j}`}, ${`body of note ${j}`}, ${j % 3 === 0 ? 1 : 0}, ${now}, ${now})`,
          );
        await db.batch(batch);
      }
      log.info({ event: "demo.seeded", rows: seed }, `seeded ${seed} notes`);
    }
  }

  async function route(req, res) {
    const url = new URL(req.url, "http://local");
    const parts = url.pathname.split("/").filter(Boolean);
    if (req.method === "GET" && url.pathname === "/") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      return res.end(PAGE);
    }
    if (parts[0] !== "api" || parts[1] !== "notes" || parts.length > 3)
      throw new HttpError(404, "NOT_FOUND", `No route ${req.method} ${url.pathname}. Try GET /api/notes.`);
    const id = parts[2] === undefined ? undefined : Number(parts[2]);
    if (parts[2] !== undefined && !(Number.isInteger(id) && id > 0)) throw new HttpError(400, "INVALID_ID", "A note id is a positive integer.");

    if (id === undefined && req.method === "GET") {
      const limit = Math.min(100, Math.max(1, Number(url.searchParams.get("limit") ?? 20) || 20));
      const q = url.searchParams.get("q");
      const rows = q
        ? await db.query(sql`SELECT * FROM notes WHERE title LIKE ${`%${q}%`} ORDER BY id DESC LIMIT ${limit}`)
        : await db.query(sql`SELECT * FROM notes ORDER BY id DESC LIMIT ${limit}`);
      return send(res, 200, { notes: rows.map(toNote) });
    }
    if (id === undefined && req.method === "POST") {
      const note = validNote(await readJson(req), false);
      const now = new Date().toISOString();
      const row = await db.get(
        sql`INSERT INTO notes (title, body, done, created_at, updated_at) VALUES (${note.title}, ${note.body ?? ""}, ${note.done ? 1 : 0}, ${now}, ${now}) RETURNING *`,
      );
      return send(res, 201, { note: toNote(row) });
    }
    if (id !== undefined && req.method === "GET") {
      // Read through the cache when it is Redis (shared by every worker and instance); a miss,
      // or Redis being down, reads the database. Writes below drop the key.
      const load = async () => toNote(await db.get(sql`SELECT * FROM notes WHERE id = ${id}`)) ?? null;
      const note = sharedCache ? await cache.wrap(`note:${id}`, load, { ttlMs: 30_000 }) : await load();
      if (!note) throw new HttpError(404, "NOT_FOUND", `Note ${id} does not exist.`);
      return send(res, 200, { note });
    }
    if (id !== undefined && (req.method === "PATCH" || req.method === "PUT")) {
      const patch = validNote(await readJson(req), req.method === "PATCH");
      const row = await db.transaction(async (tx) => {
        const cur = await tx.get(sql`SELECT * FROM notes WHERE id = ${id}`);
        if (!cur) return undefined;
        const next = { title: patch.title ?? cur.title, body: patch.body ?? cur.body, done: patch.done ?? Boolean(cur.done) };
        return tx.get(
          sql`UPDATE notes SET title = ${next.title}, body = ${next.body}, done = ${next.done ? 1 : 0}, updated_at = ${new Date().toISOString()} WHERE id = ${id} RETURNING *`,
        );
      });
      await cache.delete(`note:${id}`);
      if (!row) throw new HttpError(404, "NOT_FOUND", `Note ${id} does not exist.`);
      return send(res, 200, { note: toNote(row) });
    }
    if (id !== undefined && req.method === "DELETE") {
      const r = await db.run(sql`DELETE FROM notes WHERE id = ${id}`);
      await cache.delete(`note:${id}`);
      if (r.changes === 0) throw new HttpError(404, "NOT_FOUND", `Note ${id} does not exist.`);
      res.writeHead(204);
      return res.end();
    }
    throw new HttpError(405, "METHOD_NOT_ALLOWED", `${req.method} is not supported on ${url.pathname}.`);
  }

  return async (req, res) => {
    try {
      await route(req, res);
    } catch (err) {
      // Our own 4xx answers; anything else (database errors included) goes to holdfast,
      // which answers 503 + Retry-After for overload and lock timeouts, 504 past the deadline.
      if (err instanceof HttpError) return send(res, err.status, { error: { code: err.code, message: err.message } });
      throw err;
    }
  };
});
