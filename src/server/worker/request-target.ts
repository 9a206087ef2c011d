/**
 * Checks a request's target before the app sees it. Apps parse `req.url` with
 * `new URL(req.url, base)`, which throws on targets such as `//[` or `http://[::1`: the app then
 * answers 500 for what is the client's mistake. holdfast answers 400 for those instead.
 */

const SLASH = 47;
const BACKSLASH = 92;
const BASE = "http://localhost";

/**
 * Why `target` is not a request target an app can parse (RFC 9112 §3.2: origin-form, absolute-form,
 * or `*` for OPTIONS), or undefined when it is one.
 */
export function badRequestTarget(target: string | undefined, method: string | undefined): string | undefined {
  if (!target) return "The request has no target.";
  // Fast path, nearly every request: "/path?query" that is not "//…" or "/\…" always parses against a base.
  const second = target.charCodeAt(1);
  if (target.charCodeAt(0) === SLASH && second !== SLASH && second !== BACKSLASH) return undefined;
  if (target === "*" && method === "OPTIONS") return undefined;
  const shown = JSON.stringify(target.length > 100 ? `${target.slice(0, 100)}…` : target);
  const isAbsolute = /^https?:\/\//i.test(target);
  if (target.charCodeAt(0) !== SLASH && !isAbsolute) {
    return `The request target ${shown} is neither a path ("/notes?x=1") nor an absolute http(s) URL.`;
  }
  try {
    new URL(target, BASE);
    return undefined;
  } catch {
    return `The request target ${shown} does not parse as a URL. Send a path such as "/notes?x=1".`;
  }
}
