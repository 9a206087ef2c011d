/**
 * Turns whatever the user's app module exports into a Node request listener:
 * a plain (req, res) listener (Express and Connect apps are these too), a Koa app
 * (`callback()`), a Fastify instance (`routing` after `ready()`), a fetch-style app
 * such as Hono (`fetch(Request)`), or a `defineApp(async ctx => app)` factory.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pathToFileURL } from "node:url";
import { errors } from "../../errors/index.js";
import type { AppContext } from "./app-context.js";
import { appImportError } from "../start-errors.js";

const FACTORY = Symbol.for("holdfast.appFactory");

/** What a `defineApp` factory may return. */
export type AppLike = RequestListener | { fetch(request: Request): Response | Promise<Response> } | object;

/** A factory marked by {@link defineApp}. */
export interface AppFactory {
  [FACTORY]: true;
  create(ctx: AppContext): AppLike | Promise<AppLike>;
}

/** Marks an async factory that receives `{ db, log, config }` and returns the app. */
export function defineApp(create: (ctx: AppContext) => AppLike | Promise<AppLike>): AppFactory {
  return { [FACTORY]: true, create };
}

function isFactory(v: unknown): v is AppFactory {
  return typeof v === "object" && v !== null && (v as Record<symbol, unknown>)[FACTORY] === true;
}

/** Adapts a fetch-style handler (Hono, itty, etc.) to a Node request listener. */
function fromFetch(app: { fetch(request: Request): Response | Promise<Response> }): RequestListener {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const host = req.headers.host ?? "localhost";
    const url = new URL(req.url ?? "/", `http://${host}`);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) {
      if (Array.isArray(v)) for (const x of v) headers.append(k, x);
      else if (v !== undefined) headers.set(k, v);
    }
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    const init: RequestInit & { duplex?: "half" } = { method: req.method, headers };
    if (hasBody) {
      init.body = Readable.toWeb(req) as unknown as ReadableStream;
      init.duplex = "half";
    }
    const response = await app.fetch(new Request(url, init));
    const outHeaders: Record<string, string | string[]> = {};
    response.headers.forEach((value, key) => {
      if (key === "set-cookie") return;
      outHeaders[key] = value;
    });
    const cookies = response.headers.getSetCookie?.() ?? [];
    if (cookies.length) outHeaders["set-cookie"] = cookies;
    res.writeHead(response.status, outHeaders);
    if (!response.body) {
      res.end();
      return;
    }
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) res.write(chunk);
    res.end();
  };
}

/** Turns an app object of any supported kind into a request listener. */
export async function toRequestListener(app: unknown, source: string): Promise<RequestListener> {
  // Express/Connect apps are listeners themselves; a Koa app is an object (handled below).
  if (typeof app === "function") return app as RequestListener;
  if (typeof app === "object" && app !== null) {
    const o = app as Record<string, unknown>;
    if (typeof o.routing === "function" && typeof o.ready === "function") {
      // Fastify: routes must be registered before routing() is used.
      await (o.ready as () => Promise<unknown>)();
      return (req, res) => (o.routing as RequestListener)(req, res);
    }
    if (typeof o.callback === "function" && typeof o.use === "function") return (o.callback as () => RequestListener)();
    if (typeof o.fetch === "function") return fromFetch(o as { fetch(request: Request): Promise<Response> });
    if (typeof o.listener === "function") return o.listener as RequestListener;
  }
  throw errors.appLoadFailed(
    `${source} exported ${describe(app)}, which holdfast cannot serve. Export one of: a (req, res) request listener, an Express/Koa/Fastify/Hono app, or defineApp(async ({ db, log }) => app).`,
  );
}

function describe(v: unknown): string {
  if (v === undefined) return "nothing (no default export)";
  if (v === null) return "null";
  if (typeof v === "object") return `an object with keys [${Object.keys(v).slice(0, 8).join(", ")}]`;
  return `a ${typeof v}`;
}

/** Imports the app module and returns its request listener, running a defineApp factory with `ctx`. */
export async function loadApp(file: string, ctx: () => Promise<AppContext>): Promise<RequestListener> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    throw appImportError(file, err);
  }
  let exported: unknown = mod.default ?? mod.app ?? mod.handler;
  // CommonJS modules arrive as { default: module.exports }; a factory may sit one level down.
  if (isFactory(exported)) exported = await exported.create(await ctx());
  else if (typeof exported === "object" && exported !== null && isFactory((exported as { default?: unknown }).default)) {
    exported = await ((exported as { default: AppFactory }).default as AppFactory).create(await ctx());
  }
  return toRequestListener(exported, file);
}
