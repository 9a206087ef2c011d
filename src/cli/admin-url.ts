/** `--admin` values of `holdfast monitor` and `holdfast load`: one parser, one set of error messages. */
import { errors } from "../errors/index.js";
import { redactUrl } from "../telemetry/index.js";

/**
 * Accepts "host:port" and bare URLs; rejects what fetch could not use, by name. A token given
 * as `http://:TOKEN@host:port` (for instances with different tokens) is taken out of the URL,
 * so it never appears on screen, in JSON or in webhook payloads.
 */
export function parseAdminUrl(raw: string): { url: string; token?: string | undefined } {
  const withScheme = /^[a-z]+:\/\//i.test(raw) ? raw : `http://${raw}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw errors.usage(`--admin ${JSON.stringify(redactUrl(raw))} is not a URL. Example: --admin http://127.0.0.1:9464`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:")
    throw errors.usage(`--admin ${u.protocol}//${u.host}: only http:// and https:// admin endpoints exist.`);
  const secret = u.password || u.username;
  const token = secret ? decodeURIComponent(secret) : undefined;
  u.username = "";
  u.password = "";
  return { url: u.href.replace(/\/+$/, ""), token };
}
