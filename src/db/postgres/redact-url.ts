/** Connection URLs as they may appear in status(), logs and errors: never with a password. */

/** `postgres://user:secret@host/db?password=x` → `postgres://user@host/db`. Unparseable input is reduced to its scheme. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = "";
    for (const key of [...u.searchParams.keys()]) {
      if (/pass|secret|token|sslkey/i.test(key)) u.searchParams.delete(key);
    }
    return u.toString();
  } catch {
    const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0] ?? "";
    return `${scheme}//[unparseable URL hidden]`;
  }
}
