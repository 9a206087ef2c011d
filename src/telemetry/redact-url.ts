/**
 * The one URL redactor: every URL holdfast prints, logs, puts in /status or in an error goes
 * through it (database, cache, admin and probe URLs alike). It is the strictest of the
 * versions it replaced: the userinfo password, a bare userinfo that may be a token, and the
 * value of every query or fragment key that looks like a secret are replaced by `***`; a URL
 * that does not parse keeps only what cannot be a secret.
 */

/** Query/fragment keys whose values are secrets: password, pwd, sslpassword, secret, token, api_key, auth, signature… */
const SECRET_KEY = /pass|pwd|secret|token|key|auth|credential|sig/i;
/** Schemes whose userinfo user name is an account name, not a secret (libpq, its aliases). */
const NAMED_USER_SCHEMES = new Set(["postgres:", "postgresql:"]);
const MASK = "***";

/** `postgres://u:s3cret@h/db?sslpassword=x` → `postgres://u:***@h/db?sslpassword=***`; safe for logs, /status and errors. */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return redactUnparsed(url);
  }
  // "postgres://u:12#pa@h" parses as host u, port 12 and a fragment: an "@" after a "user:…" start that
  // the parser did not take as userinfo is a password with a reserved character in it.
  if (!u.username && !u.password && /^[a-z][a-z0-9+.-]*:\/\/[^/@]*:[^@]*@/i.test(url)) return redactUnparsed(url);
  let changed = false;
  if (u.password) {
    u.password = MASK;
    changed = true;
  } else if (u.username && !NAMED_USER_SCHEMES.has(u.protocol)) {
    u.username = MASK; // redis://token@h, http://token@h
    changed = true;
  }
  for (const key of new Set(u.searchParams.keys())) {
    if (SECRET_KEY.test(key)) {
      u.searchParams.set(key, MASK);
      changed = true;
    }
  }
  if (u.hash && SECRET_KEY.test(u.hash)) {
    u.hash = MASK;
    changed = true;
  }
  // Nothing secret: the URL as the user wrote it (the parser would add a "/" or re-encode the query).
  return changed ? u.toString() : url;
}

/** Masks secrets in text that does not parse as a URL (a typo, or a libpq `key=value` string). */
function redactUnparsed(text: string): string {
  let out = text;
  // Everything between "://" and the last "@" may be userinfo: a password with "/", "?" or "#" in it is what breaks parsing.
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(out);
  if (scheme) {
    const at = out.lastIndexOf("@");
    if (at > scheme[0].length) out = `${scheme[0]}${MASK}${out.slice(at)}`;
  }
  return out.replace(/(^|[?&;#\s])([^=&;#\s]+)=([^&;#\s]*)/g, (whole, sep: string, key: string) => (SECRET_KEY.test(key) ? `${sep}${key}=${MASK}` : whole));
}
