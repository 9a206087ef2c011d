/**
 * The worker's HTTP server: Node's timeouts from the config, a 400/408 answer (then a closed
 * socket) for requests that never reach the app, and the table of open sockets with how many
 * requests each has in flight and since when it is idle, which the drain reads.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server } from "node:http";
import { performance } from "node:perf_hooks";
import type { Socket } from "node:net";
import type { Config } from "../../config/index.js";
import { portInUse } from "../start-errors.js";
import { errorBody } from "./error-response.js";
import { newRequestId } from "./inflight-request.js";
import { RequestIdResponse } from "./request-id-response.js";

/** One open connection: requests in flight on it, and performance.now() when it last went idle. */
export interface SocketState {
  busy: number;
  idleSince: number;
}

/** Every open connection of this worker. */
export type SocketTable = Map<Socket, SocketState>;

/** The socket's entry in the table, also kept on the socket: a request reads it without a Map lookup. */
const kSocketState = Symbol("holdfast.socketState");
type TrackedSocket = Socket & { [kSocketState]?: SocketState };

/** How long a refused connection may stay half-closed for its client to read the answer and close. */
const REFUSED_LINGER_MS = 500;

/** Creates the server (not yet listening), keeping `sockets` up to date. */
export function createHttpServer(c: Config, listener: RequestListener, sockets: SocketTable): Server {
  const server = createServer(
    {
      keepAliveTimeout: c.timeouts.keepAlive,
      headersTimeout: c.timeouts.headers,
      requestTimeout: c.timeouts.request,
      // Node checks header/request timeouts on this period (default 30 s), so a timeout fires up to
      // one period late; a tenth of timeouts.headers, at most 1 s, keeps it close (one cheap sweep).
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(c.timeouts.headers / 10))),
      // Writes X-Request-Id with the app's headers (request-id-response.ts says why not setHeader).
      ServerResponse: RequestIdResponse,
    },
    // The one 'request' listener: a second one would make every emit copy the listener array.
    (req, res) => {
      const s = (req.socket as TrackedSocket)[kSocketState];
      if (s !== undefined) s.busy++;
      listener(req, res);
    },
  );
  server.on("connection", (socket: TrackedSocket) => {
    const state: SocketState = { busy: 0, idleSince: performance.now() };
    socket[kSocketState] = state;
    sockets.set(socket, state);
    socket.once("close", () => sockets.delete(socket));
  });
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
    // Malformed requests get a 400 instead of a silent reset; timeouts get 408.
    if (!socket.writable) return socket.destroy();
    if (err.code === "ERR_HTTP_REQUEST_TIMEOUT" || err.code === "ERR_HTTP_HEADERS_TIMEOUT") {
      return answerAndClose(socket, "HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
    }
    // The JSON error body every holdfast answer has; the parser's own reason (err.code) says what was malformed.
    const body = errorBody("BAD_REQUEST", `The request is not valid HTTP/1.1 (${err.code ?? "parse error"}); it never reached the app.`, newRequestId());
    answerAndClose(
      socket,
      `HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  });
  return server;
}

/** Marks the request's connection idle again, as of `now` (performance.now()); called once per finished request. */
export function requestDone(req: IncomingMessage, now: number): void {
  const st = (req.socket as TrackedSocket | null)?.[kSocketState];
  if (st !== undefined) {
    st.busy--;
    st.idleSince = now;
  }
}

/** Listens on the configured address; resolves with the port (the one picked when port is 0). */
export async function listen(server: Server, c: Config): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => reject(err.code === "EADDRINUSE" ? portInUse("app", c.host, c.port, err) : err));
    server.listen({ host: c.host, port: c.port, backlog: c.backlog }, () => resolve());
  });
  const address = server.address();
  return typeof address === "object" && address ? address.port : c.port;
}

/**
 * Sends a final answer (400/408) and closes the connection for good. The HTTP server is half-open
 * (allowHalfOpen), so end() alone only sends FIN: a client that keeps its side open and keeps
 * writing — a slowloris client does — would hold the socket and its descriptor forever.
 */
function answerAndClose(socket: Socket, answer: string): void {
  socket.end(answer);
  const timer = setTimeout(() => socket.destroy(), REFUSED_LINGER_MS);
  timer.unref();
  socket.once("close", () => clearTimeout(timer));
}
