/**
 * One pg connection as the pool holds it, plus the two ways a statement is stopped at its
 * deadline: a CancelRequest on a side socket (the server stops the statement, the connection
 * stays usable), and if the server does not answer that in time, closing the socket.
 */
import { connect as netConnect, type Socket } from "node:net";
import type pg from "pg";
import { importOptional } from "../../optional/index.js";
import type { Logger } from "../../telemetry/index.js";

/** A pooled connection. `broken` is set once it must not be reused. */
export interface PgConnection {
  readonly client: pg.Client;
  /** Why it can no longer be used (error event, end, forced close); undefined while healthy. */
  broken: unknown;
}

/** How long after a cancel we wait for the statement to stop before closing the socket. */
const CANCEL_GRACE_MS = 1000;
/** PostgreSQL's CancelRequest code (protocol 3). */
const CANCEL_REQUEST_CODE = 80877102;

/** int8 as a number when exact, else a bigint: never a silently rounded number, and counts compare like SQLite's. */
function parseInt8(text: string): number | bigint {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

/** node-postgres, loaded on the first connection (an optional package: SQLite users never install it). */
let driver: Promise<{ pg: typeof pg; types: pg.CustomTypesConfig }> | undefined;

function loadDriver(): Promise<{ pg: typeof pg; types: pg.CustomTypesConfig }> {
  driver ??= importOptional<{ default: typeof pg }>("pg", "db.url is a postgres:// URL").then(({ default: pgModule }) => ({
    pg: pgModule,
    types: {
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        oid === 20 && format !== "binary" ? parseInt8 : pgModule.types.getTypeParser(oid, format ?? "text")) as typeof pg.types.getTypeParser,
    },
  }));
  // A failed load is not cached: the error is thrown again on the next attempt rather than remembered forever.
  driver.catch(() => {
    driver = undefined;
  });
  return driver;
}

/** Opens a connection; errors are the raw pg/socket errors (the caller maps them). */
export async function openConnection(config: pg.ClientConfig, log: Logger | undefined, poolName: string): Promise<PgConnection> {
  const { pg: pgModule, types } = await loadDriver();
  const client = new pgModule.Client({ ...config, types });
  const conn: PgConnection = { client, broken: undefined };
  // Without an 'error' listener, a connection killed while idle would crash the process.
  client.on("error", (err) => {
    if (conn.broken === undefined) {
      conn.broken = err;
      log?.warn(
        { event: "db.connection_lost", pool: poolName, err: err.message, sqlstate: (err as { code?: string }).code },
        `PostgreSQL connection lost while idle (${err.message}); it will be replaced.`,
      );
    }
  });
  client.on("end", () => {
    conn.broken ??= new Error("Connection terminated");
  });
  try {
    await client.connect();
  } catch (err) {
    conn.broken = err;
    client.end().catch(() => {});
    throw err;
  }
  return conn;
}

/** Closes a connection politely; a dead one is torn down without waiting. */
export async function closeConnection(conn: PgConnection): Promise<void> {
  if (conn.broken !== undefined) {
    forceClose(conn, conn.broken);
    return;
  }
  conn.broken = new Error("closed by the pool");
  await Promise.race([conn.client.end(), new Promise((r) => setTimeout(r, 2000).unref())]).catch(() => {});
  forceClose(conn, conn.broken);
}

/** Why holdfast cancelled a statement. */
export type CancelCause = "deadline" | "statementTimeout" | "aborted";

/** A statement's time limit and what set it. */
export interface StatementLimit {
  ms: number;
  by: "deadline" | "statementTimeout";
}

/** What else may stop a statement early: the request's abort signal (client gone). */
export interface StatementAbort {
  signal: AbortSignal;
  /** Cause to report when the signal fires (the server also aborts when the deadline passes). */
  cause: () => CancelCause;
}

/** Result of {@link runStatement}: the pg result, or the error and why we cancelled it, if we did. */
export type StatementOutcome = { ok: true; result: pg.QueryResult } | { ok: false; error: unknown; cancelledBy: CancelCause | undefined };

/** Runs one statement, cancelling it server-side when `limit` passes or `abort` fires. Never rejects. */
export async function runStatement(
  conn: PgConnection,
  text: string,
  values: readonly unknown[],
  limit: StatementLimit | undefined,
  abort?: StatementAbort,
): Promise<StatementOutcome> {
  const query = conn.client.query({ text, values: values as unknown[] });
  if (limit === undefined && abort === undefined) {
    return query.then(
      (result) => ({ ok: true as const, result }),
      (error: unknown) => ({ ok: false as const, error, cancelledBy: undefined }),
    );
  }
  let cancelledBy: CancelCause | undefined;
  let cancelDone: Promise<void> | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  const cancel = (by: CancelCause) => {
    if (cancelledBy !== undefined) return;
    cancelledBy = by;
    cancelDone = sendCancel(conn.client);
    killTimer = setTimeout(() => forceClose(conn, new Error("statement did not stop after cancel")), CANCEL_GRACE_MS);
  };
  const timer = limit ? setTimeout(() => cancel(limit.by), limit.ms) : undefined;
  const onAbort = abort ? () => cancel(abort.cause()) : undefined;
  if (abort && onAbort) {
    if (abort.signal.aborted) onAbort();
    else abort.signal.addEventListener("abort", onAbort, { once: true });
  }
  const outcome: StatementOutcome = await query.then(
    (result) => ({ ok: true as const, result }),
    (error: unknown) => ({ ok: false as const, error, cancelledBy: undefined }),
  );
  if (timer) clearTimeout(timer);
  if (abort && onAbort) abort.signal.removeEventListener("abort", onAbort);
  if (killTimer) clearTimeout(killTimer);
  if (cancelDone) {
    await cancelDone;
    // Only a 57014 proves our cancel was consumed by this statement. Otherwise it may still be in
    // flight (a pooler or relay in between delays it) and could cancel the next caller's statement.
    const consumed = !outcome.ok && (outcome.error as { code?: string } | undefined)?.code === "57014";
    if (!consumed) forceClose(conn, new Error("a cancel request may still be pending on this connection"));
  }
  if (!outcome.ok) outcome.cancelledBy = cancelledBy;
  return outcome;
}

/** Sends a CancelRequest for the client's running statement; resolves when the server closed the side socket (≤ 1 s). */
function sendCancel(client: pg.Client): Promise<void> {
  const { processID, secretKey } = client as unknown as { processID: number | null; secretKey: number | null };
  if (processID === null || secretKey === null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const host = client.host;
    const socket: Socket = host?.startsWith("/") ? netConnect(`${host}/.s.PGSQL.${client.port}`) : netConnect(client.port, host || "localhost");
    const done = () => {
      clearTimeout(guard);
      socket.destroy();
      resolve();
    };
    const guard = setTimeout(done, CANCEL_GRACE_MS);
    socket.once("connect", () => {
      const msg = Buffer.alloc(16);
      msg.writeInt32BE(16, 0);
      msg.writeInt32BE(CANCEL_REQUEST_CODE, 4);
      msg.writeInt32BE(processID, 8);
      msg.writeInt32BE(secretKey, 12);
      socket.end(msg);
    });
    socket.once("close", done);
    socket.once("error", done);
  });
}

/** Destroys the socket under a client so any running query fails at once. */
function forceClose(conn: PgConnection, reason: unknown): void {
  conn.broken ??= reason;
  const stream = (conn.client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
  stream?.destroy();
}
