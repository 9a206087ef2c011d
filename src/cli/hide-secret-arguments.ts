/**
 * `ps` shows every process's arguments to every user of the host. When a command was given a
 * secret on its command line (a URL with a password, --token), holdfast rewrites its own command
 * line without it; the values themselves are already parsed. Passing secrets through the
 * environment (HOLDFAST_DB_URL, HOLDFAST_ADMIN_TOKEN) avoids the exposure altogether.
 */
import { redactUrl } from "../telemetry/index.js";

/** Flags whose whole value is a secret. */
const SECRET_FLAGS = new Set(["--token", "--admin-token"]);
/** Request headers (`holdfast load --header`) whose value is a credential. */
const SECRET_HEADER = /^\s*(authorization|proxy-authorization|cookie|x-api-key|x-auth-token)\s*:/i;

/** `argv` as it may be shown: URL secrets redacted, secret flag values replaced by `***`. */
export function shownArguments(argv: readonly string[]): string[] {
  return argv.map((a, i) => {
    if (SECRET_FLAGS.has(argv[i - 1] ?? "")) return "***";
    if ((argv[i - 1] === "--header" || argv[i - 1] === "-H") && SECRET_HEADER.test(a)) return `${a.slice(0, a.indexOf(":"))}: ***`;
    const eq = a.indexOf("=");
    if (a.startsWith("--") && eq > 0 && SECRET_FLAGS.has(a.slice(0, eq))) return `${a.slice(0, eq)}=***`;
    if (!a.includes("://") && !a.includes("=")) return a;
    return a.startsWith("--") && eq > 0 ? `${a.slice(0, eq + 1)}${redactUrl(a.slice(eq + 1))}` : redactUrl(a);
  });
}

/** Rewrites this process's title (what ps and /proc/<pid>/cmdline show) when `argv` carries a secret. */
export function hideSecretArguments(argv: readonly string[]): void {
  const shown = shownArguments(argv);
  if (shown.some((a, i) => a !== argv[i])) process.title = ["holdfast", ...shown].join(" ");
}
